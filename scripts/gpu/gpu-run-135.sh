#!/usr/bin/env bash
# Session 12, call 8, H100: review mend (LlamaModel keeps one count of the last step's sequences instead of two):
# engine GPU tests and e2e at batch 1 / 16.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -40; grep -a "Total:" $OUT/tests.txt
timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e.txt 2>&1
grep -aE "^ +[0-9]+ |floor" $OUT/e2e.txt | awk '{print $1, $2, $5, $8}'
