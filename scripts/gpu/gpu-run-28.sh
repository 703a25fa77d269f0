#!/usr/bin/env bash
# Session 3: small layers at 9..16 rows — plain (unswapped) 16-row tiles against the selected swapped ones; 64-wide tiles.
set -uo pipefail
B=.bundle
run() { # shape m config
  local r; r=$(timeout 60 $B/marlin bench gemm --shape $1 --m $2 ${3:+--config $3} 2>&1 | grep -aE "^[0-9]+x[0-9]+ " | awk '{print $5, $6}')
  echo "$1 m=$2 ${3:-selected}: $r"
}
for shape in 4096x4096 4096x12288 11008x4096 4096x22016 8192x8192 8192x10240; do
  run $shape 16
  for c in 1,128,128,6,2 1,64,128,6,2 1,128,64,6,2 1,64,128,6,2,0,0,2,0,1 1,128,128,4,2,0,0,2,0,1; do run $shape 16 $c; done
done
