#!/usr/bin/env bash
# Session 7, call 1: first wgmma kernel (marlin_wgmma.cu): compile report, GPU tests, peak-shape comparison.
set -uo pipefail
B=.bundle
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
echo "== ptxas"
for v in "128 128 3 8" "64 128 4 8" "32 128 4 8" "128 128 3 0" "128 128 3 2" "128 64 4 8"; do
  set -- $v
  $NVCC -arch=sm_90a -cubin -o /tmp/w.cubin -std=c++17 --ptxas-options=-v -DMARLIN_ROWS=$1 -DMARLIN_TILE_K=$2 -DMARLIN_STAGES=$3 -DMARLIN_GROUP_BLOCKS=$4 \
    -x cu src/MarlinSharp/Kernels/marlin_wgmma.cu 2>&1 | grep -E "error|warning|registers|spill|serializ" | sed "s/^/[$v] /" | head -6
done
echo "== wide tests"
timeout 240 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests1.txt | head -60; tail -1 $OUT/tests1.txt
echo "== peak shape, wgmma vs mma.sync"
timeout 120 $B/marlin bench gemm --shape peak --m 32,48,64,96,128,256,512,1024 > $OUT/peak-wide.txt 2>&1; cat $OUT/peak-wide.txt | tail -10
MARLINSHARP_NO_WGMMA=1 timeout 120 $B/marlin bench gemm --shape peak --m 32,64,128,256,1024 > $OUT/peak-mma.txt 2>&1; tail -6 $OUT/peak-mma.txt
