#!/usr/bin/env bash
# Session 14, call 10, H100: the final commit (after the review mends): engine GPU tests, fused-epilogue GPU tests and
# one e2e batch 1 / 16 run.
set -uo pipefail
B=.bundle
timeout 240 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -30; tail -1 $OUT/tests.txt
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests > $OUT/fused.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/fused.txt | head -30; tail -1 $OUT/fused.txt
timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e.txt 2>&1
grep -aE "^ +[0-9]+ " $OUT/e2e.txt | awk '{print "  ", $1, $2, $5, $8}'
