#!/usr/bin/env bash
# TMA bulk weight copies against per-thread cp.async: correctness (every configuration incl. the bulk ones), then timing.
set -uo pipefail
B=.bundle
timeout 150 $B/run-tests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests -method "*EveryConfiguration*" > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/tests.txt | head -24; tail -1 $OUT/tests.txt
echo "== m=1,8"; bash scripts/gpu/gpu-tune.sh 1,8 1,256,128,4,2,0,0,1,0,0 1,256,128,4,2,0,0,1,0,1 1,256,128,6,1,0,0,1,0,1 1,256,128,8,1,0,0,1,0,1
echo "== m=16"; bash scripts/gpu/gpu-tune.sh 16 1,256,128,3,2,0,0,2,0,0 1,256,128,3,2,0,0,2,0,1
echo "== m=64"; bash scripts/gpu/gpu-tune.sh 64 4,256,128,4,1,0,0,0,0,0 4,256,128,4,1,0,0,0,0,1
