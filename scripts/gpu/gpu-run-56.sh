#!/usr/bin/env bash
# Session 6, call 3: what a plain HBM read of each Llama-2-7B INT4 layer size costs (microbenchmark compiled with nvcc on
# the GPU host, not part of the library), and the streamed kernel with its compute left out (loads only).
set -uo pipefail
B=.bundle
nvcc -O3 -arch=sm_90a -std=c++17 -o /tmp/hbm_read scripts/gpu/micro/hbm_read.cu && /tmp/hbm_read > $OUT/hbm.txt 2>&1
cat $OUT/hbm.txt
echo "== loads only / full"
for extra in "-DMARLIN_DEBUG_SKIP_COMPUTE=1" ""; do
for c in stream,4 stream,8; do
  MARLINSHARP_NVRTC_EXTRA="$extra" timeout 60 $B/marlin bench gemm --shape 4096x4096 --shape 11008x4096 --shape 4096x12288 --shape 4096x22016 --m 1 --config $c > $OUT/l.txt 2>&1
  grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " $OUT/l.txt | awk -v c="$c $extra" '{printf "%-40s %-12s m=%-3s fp16 %s int4 %s %s\n", c, $2, $3, $4, $5, $6}'
done; done
