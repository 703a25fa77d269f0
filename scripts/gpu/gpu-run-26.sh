#!/usr/bin/env bash
# Session 3: tuning sweep of forced configurations on small (Llama-2-7B) layers at m = 1 and m = 16, PDL on.
set -uo pipefail
B=.bundle
run() { # shape m config
  local r; r=$(timeout 60 $B/marlin bench gemm --shape $1 --m $2 ${3:+--config $3} 2>&1 | grep -aE "^[0-9]+x[0-9]+ " | awk '{print $5, $6}')
  echo "$1 m=$2 ${3:-selected}: $r"
}
for shape in 4096x4096 4096x12288 11008x4096; do
  run $shape 1
  for c in 1,64,128,6,2,0,0,1 1,128,128,4,2,0,0,1 1,128,128,6,1,0,0,1 1,128,64,6,2,0,0,1 1,256,128,4,2,0,0,1 1,128,128,6,2,0,0,1,1; do run $shape 1 $c; done
  run $shape 16
  for c in 1,64,128,6,2,0,0,2,0,1 1,128,64,6,2,0,0,2,0,1 1,128,128,4,2,0,0,2,0,1 1,128,128,6,2,0,0,2,1,1 1,128,128,6,2,0,0,2,0,0; do run $shape 16 $c; done
done
