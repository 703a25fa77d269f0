#!/usr/bin/env bash
# Session 10, call 2: the streamed kernel with chunk sharing, forced on the peak shape and the 7B / 70B layer sets at
# 12 and 16 rows (session 8 measured forced streaming on the peak shape before chunks could share activations).
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
for cfg in default stream,4,2,4 stream,4,2,2 stream,8,2,8 stream,8,2,4 stream,4,3,4 stream,8,3,8 stream,8,2,2; do
  echo "== $cfg"
  args=""; [[ $cfg != default ]] && args="--config $cfg"
  timeout 120 $B/marlin bench gemm --shape peak --m 12,16 --layers llama2-7b llama2-70b --layers-m 16 $args > $OUT/g.txt 2>&1
  grep -aE "^(peak|llama2|  *sum|set sum|llama2-.*sum)" $OUT/g.txt | awk '{print $1, $2, $3, $4, $5, $6, $NF}'
  grep -aiE "error|exception|unhandled" $OUT/g.txt | head -4
done
