#!/usr/bin/env bash
# Session 3: small layers with 128-wide bulk rings of the same bytes in flight as the 256-wide 3-deep one (6 x 8 KB).
set -uo pipefail
B=.bundle
run() { timeout 90 $B/marlin bench gemm --shape $1 --m $2 ${3:+--config $3} 2>&1 | grep -aE "^[0-9]+x[0-9]+ " | awk -v c="${3:-selected}" -v s=$1 '{printf "%s m=%s %s: int4 %s %s\n", s, $3, c, $5, $6}'; }
for shape in 4096x4096 4096x12288 11008x4096 4096x22016; do
  run $shape 1
  for c in 1,128,128,6,2,0,0,1,0,1 1,128,128,5,2,0,0,1,0,1 1,64,128,6,2,0,0,1,0,1; do run $shape 1 $c; done
  run $shape 16
  for c in 1,128,128,6,2,0,0,0,0,1 1,128,128,4,2,0,0,0,0,1; do run $shape 16 $c; done
done
