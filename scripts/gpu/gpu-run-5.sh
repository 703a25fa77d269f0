#!/usr/bin/env bash
set -uo pipefail
B=.bundle
echo "== verify"; timeout 120 $B/marlin verify --seed 99 2>&1 | tail -4
echo "== kernel GPU tests"; timeout 240 $B/run-tests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests -class MarlinSharp.Tests.Cuda.GpuTests > $OUT/gputests.txt 2>&1; grep -aE "\[FAIL\]|passed, " $OUT/gputests.txt | head -20
echo "== m=1,8 swapped"
bash scripts/gpu/gpu-tune.sh 1,8 1,256,128,3,2,0,0,1 1,128,128,5,2,0,0,1 1,128,128,6,2,0,0,1 1,64,128,6,2,0,0,1 1,256,128,4,1,0,0,1 1,256,64,6,2,0,0,1
echo "== m=16"
bash scripts/gpu/gpu-tune.sh 16 1,256,64,6,2,0,0,2 1,128,64,6,2,0,0,2 1,256,128,4,1,0,0,2 1,256,128,3,2
echo "== per-channel defaults"; timeout 60 $B/marlin bench gemm --shape peak --m 1,8,16 --group -1 2>&1 | grep -E "^peak"
