#!/usr/bin/env bash
# Session 13, call 8, H100: review mend (bench e2e --profile's back-to-back timings share one helper): engine GPU tests and
# one --profile run at batch 1.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -30; tail -1 $OUT/tests.txt
timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1 --profile > $OUT/profile.txt 2>&1
grep -aE "^ +[0-9]+ |back to back|pipelined steps" $OUT/profile.txt | grep -v "^bench"
