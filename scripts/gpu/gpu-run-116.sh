#!/usr/bin/env bash
# Session 11, call 2: why subnormal weights were slower (call 1: m = 16 0.214 -> 0.239 ms, 32 rows 0.26 -> 0.36).
# Timing only (results wrong in the debug modes): MARLIN_DEBUG_SN 1 = no zero-point wgmma, 2 = no 1/16 pass,
# 3 = the magic-number path plus an unused zero-point wgmma per slab; peak shape 16 and 32 rows, twice.
set -uo pipefail
B=.bundle
export MARLINSHARP_CACHE_DIR=/tmp/kc-sn
for round in 1 2; do
  for v in "0 0" "1 0" "1 1" "1 2" "0 3"; do
    set -- $v
    MARLINSHARP_NVRTC_EXTRA="-DMARLIN_SUBNORMAL_WEIGHTS=$1 -DMARLIN_DEBUG_SN=$2" timeout 150 $B/marlin bench gemm --shape peak --m 16,32 > $OUT/g.txt 2>&1
    echo "subnormal=$1 debug=$2 round $round: $(grep -aE '^peak' $OUT/g.txt | awk '{ print $4, $6 }' | paste -sd' ')"
  done
done
