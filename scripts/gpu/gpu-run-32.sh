#!/usr/bin/env bash
# Session 3: bulk (TMA) weight copies at 1..8 rows with shallower rings; peak shape and small layers.
set -uo pipefail
B=.bundle
run() { # shape mlist config
  timeout 90 $B/marlin bench gemm --shape $1 --m $2 ${3:+--config $3} 2>&1 | grep -aE "^(peak|[0-9]+x[0-9]+) " | awk -v c="${3:-selected}" -v s=$1 '{printf "%s m=%s %s: fp16 %s int4 %s %s\n", s, $3, c, $4, $5, $6}'
}
run peak 1,2,4,8
for c in 1,256,128,3,2,0,0,1,0,1 1,256,128,2,2,0,0,1,0,1 1,256,128,3,1,0,0,1,0,1 1,128,128,3,2,0,0,1,0,1 1,128,128,4,2,0,0,1,0,1; do run peak 1,2,4,8 $c; done
for shape in 4096x4096 4096x12288 11008x4096 4096x22016 8192x28672; do
  run $shape 1,8
  for c in 1,128,128,3,2,0,0,1,0,1 1,128,128,4,2,0,0,1,0,1 1,64,128,4,2,0,0,1,0,1 1,256,128,3,2,0,0,1,0,1; do run $shape 1,8 $c; done
done
