#!/usr/bin/env bash
# Session 14, call 1, H100: greedy readback by polling the mapped ring (no per-step event): engine and CUDA GPU tests,
# previous CLI (5896d73, event per step) against this one, alternating, then --profile at batch 1 and 16.
set -uo pipefail
B=.bundle
timeout 240 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -30; tail -1 $OUT/tests.txt
timeout 60 $B/run-tests -class MarlinSharp.Tests.Cuda.GpuTests > $OUT/cuda.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/cuda.txt | head -20; tail -1 $OUT/cuda.txt
for r in 1 2; do
  for v in new old; do
    cli=$B/marlin; [[ $v == old ]] && cli=$B/marlin-old
    timeout 90 $cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$v-$r.txt 2>&1
    grep -aE "^ +[0-9]+ " $OUT/e2e-$v-$r.txt | awk -v v=$v -v r=$r '{print "  " v, r, $1, $2, $5, $8}'
  done
done
timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/profile.txt 2>&1
grep -aE "^ +[0-9]+ |back to back|pipelined steps" $OUT/profile.txt | grep -v "^bench"
