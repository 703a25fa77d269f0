#!/usr/bin/env bash
# Session 3: bulk-copy ring shapes at 1..8 and 16 rows (peak shape), forced configurations.
set -uo pipefail
B=.bundle
run() { timeout 90 $B/marlin bench gemm --shape peak --m $1 --config $2 2>&1 | grep -aE "^peak" | awk -v c="$2" '{printf "%s m=%s int4 %s %s\n", c, $3, $5, $6}'; }
for c in 1,256,128,3,2,0,0,1,0,1 1,256,64,6,2,0,0,1,0,1 1,256,64,5,2,0,0,1,0,1 1,256,64,4,2,0,0,1,0,1 1,256,128,2,2,0,0,1,0,1; do run 1,4,8 $c; done
for c in 1,256,128,3,2,0,0,2,0,1 1,256,64,6,2,0,0,2,0,1 1,256,64,4,2,0,0,2,0,1 1,256,128,2,2,0,0,2,0,1 2,256,128,3,1,0,0,4,0,1; do run 16 $c; done
for c in 2,256,128,4,1,0,0,4,0,1 2,256,128,3,1,0,0,4,0,1 2,256,64,6,1,0,0,4,0,1 2,256,128,2,2,0,0,4,0,1; do run 32 $c; done
