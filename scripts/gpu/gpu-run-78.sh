#!/usr/bin/env bash
# Session 7, call 8: four fragment buffers (three slabs of wgmmas in flight per warpgroup) against two; tests with four.
set -uo pipefail
B=.bundle
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
for v in; do
  set -- $v
  $NVCC -arch=sm_90a -cubin -o /tmp/w.cubin -std=c++17 --ptxas-options=-v -DMARLIN_ROWS=$1 -DMARLIN_CTAS_PER_SM=$2 -DMARLIN_FRAG_BUFFERS=$3 -DMARLIN_STAGES=4 \
    -x cu src/MarlinSharp/Kernels/marlin_wgmma.cu 2>&1 | grep -E "error|registers|spill|serializ" | sed "s/^/[$v] /" | head -3
done
run() { MARLINSHARP_NVRTC_EXTRA="$2" timeout 60 $B/marlin bench gemm --shape peak --m $1 ${3:-} > $OUT/t.txt 2>&1; grep -aE "^peak" $OUT/t.txt | awk -v t="$2" '{print $4, $5, $6, $7, $NF, t}'; grep -aiE "error|exception" $OUT/t.txt | head -2; }
for m in 32,64,128,1024; do run $m ""; run $m "-DMARLIN_FRAG_BUFFERS=4"; done
run 64 "-DMARLIN_FRAG_BUFFERS=4" "--config wgmma,64,128,3,2"
run 64 "-DMARLIN_FRAG_BUFFERS=4" "--config wgmma,64,128,5"
run 32 "-DMARLIN_FRAG_BUFFERS=4" "--config wgmma,32,128,4"
timeout 60 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 32,64,128 > $OUT/l.txt 2>&1; tail -7 $OUT/l.txt
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_FRAG_BUFFERS=4" timeout 60 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 32,64,128 > $OUT/l4.txt 2>&1; tail -6 $OUT/l4.txt
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_FRAG_BUFFERS=4" timeout 150 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests.txt | head -20; tail -1 $OUT/tests.txt
