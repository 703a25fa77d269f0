#!/usr/bin/env bash
set -uo pipefail
B=.bundle
echo "== kernel GPU tests (incl. swapped 16/32-row configs)"; timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests > $OUT/gputests.txt 2>&1; grep -aE "\[FAIL\]|passed, " $OUT/gputests.txt | head -10
echo "== m=16"; bash scripts/gpu/gpu-tune.sh 16 1,256,128,3,2 1,256,128,3,2,0,0,2 1,256,64,5,2,0,0,2 1,128,128,5,2,0,0,2
echo "== m=32"; bash scripts/gpu/gpu-tune.sh 24,32 2,256,128,4,1 2,256,64,4,1,0,0,4 2,256,128,4,1,0,0,4 2,128,128,4,1,0,0,4
echo "== per-channel"; timeout 60 $B/marlin bench gemm --shape peak --m 1,16 --group -1 2>&1 | grep -E "^peak"
