#!/usr/bin/env bash
# Session 7, call 4: as call 3 with the accumulator pins only after wait_group 0 (call 3 serialised every wgmma)
# compile report, GPU tests, tuning sweep on the peak shape.
set -uo pipefail
B=.bundle
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
echo "== ptxas"
for v in "128 128 4 8 1" "64 128 4 8 1" "32 128 4 8 1" "32 128 4 8 2" "64 64 6 8 2" "128 128 4 0 1" "128 128 4 2 1"; do
  set -- $v
  $NVCC -arch=sm_90a -cubin -o /tmp/w.cubin -std=c++17 --ptxas-options=-v -DMARLIN_ROWS=$1 -DMARLIN_TILE_K=$2 -DMARLIN_STAGES=$3 -DMARLIN_GROUP_BLOCKS=$4 -DMARLIN_CTAS_PER_SM=$5 \
    -x cu src/MarlinSharp/Kernels/marlin_wgmma.cu 2>&1 | grep -E "error|registers|spill|serializ|injected" | sed "s/^/[$v] /" | head -4
done
echo "== wide tests"
timeout 240 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests1.txt | head -60; tail -1 $OUT/tests1.txt
echo "== tuning, peak shape"
tune() { timeout 60 $B/marlin bench gemm --shape peak --m $1 --config $2 > $OUT/t.txt 2>&1; grep -aE "^peak" $OUT/t.txt | awk '{print $4, $5, $6, $7, $NF}'; grep -aiE "error|exception" $OUT/t.txt | head -2; }
for c in wgmma,32,128,4 wgmma,32,128,4,2 wgmma,32,128,3,2 wgmma,32,64,6,2; do tune 32 $c; done
for c in wgmma,64,128,4 wgmma,64,128,3,2 wgmma,64,64,6,2 wgmma,64,64,6; do tune 64 $c; done
for c in wgmma,128,128,4 wgmma,128,128,3 wgmma,128,64,6; do tune 128,1024 $c; done
echo "== 7B layers"
timeout 60 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 32,64,128 > $OUT/l7.txt 2>&1; tail -7 $OUT/l7.txt
