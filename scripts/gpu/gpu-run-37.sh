#!/usr/bin/env bash
# Session 3: small (Llama-2-7B) layers at 32 and 64 rows — 256-wide bulk rings against the selected 128-wide cp.async ones.
set -uo pipefail
B=.bundle
run() { timeout 90 $B/marlin bench gemm --shape $1 --m $2 ${3:+--config $3} 2>&1 | grep -aE "^[0-9]+x[0-9]+ " | awk -v c="${3:-selected}" -v s=$1 '{printf "%s m=%s %s: int4 %s %s %s\n", s, $3, c, $5, $6, $NF}'; }
for shape in 4096x12288 4096x4096 4096x22016 11008x4096; do
  run $shape 64
  for c in 4,256,128,3,1,0,0,0,0,1 4,128,128,3,1,0,0,0,0,1 4,128,128,4,1,0,0,0,0,1; do run $shape 64 $c; done
  run $shape 32
  for c in 2,256,128,3,1,0,0,4,0,1 2,128,128,3,1,0,0,4,0,1 2,128,128,3,1,0,0,0,0,1; do run $shape 32 $c; done
done
