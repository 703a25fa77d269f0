#!/usr/bin/env bash
# Session 8, call 4: activation ring depth 2 against 3 on the Llama-2 layers (forced 4- and 8-warp streamed kernels).
set -uo pipefail
B=.bundle
for c in stream,4 stream,4,3 stream,8 stream,8,3 stream,4 stream,8; do
  echo "== $c"
  timeout 100 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 1,8,16 --config $c > $OUT/v.txt 2>&1
  grep -aE "4096x|11008x|8192x8192|8192x10240" $OUT/v.txt | awk '{print $2, $3, $5}' | paste -sd' '
done
