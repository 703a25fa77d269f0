#!/usr/bin/env bash
# Session 15, call 7, H100: review mends (the folded-FP16 choice fixed at construction, the skip switches without an
# empty branch). Engine GPU tests and one e2e batch 1 / 16 run.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -30; tail -1 $OUT/tests.txt
timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e.txt 2>&1
grep -aE "^ +[0-9]+ " $OUT/e2e.txt | awk '{print "  ", $1, $2, $5, $8}'; grep -a floor $OUT/e2e.txt | sed 's/.*= //'
