#!/usr/bin/env bash
# Session 11, call 4: is the 16-row wgmma kernel bound by the completion latency of its wgmma groups (two slabs in
# flight per warpgroup)? Call 3: 11% fewer instructions (subnormal weights without the zero-point wgmma) gave 1%, one
# more wgmma per slab cost 13%. A/B MARLIN_FRAG_BUFFERS 2 / 4 (three slabs in flight) with the magic-number and the
# subnormal kernels, peak shape at 12..64 rows and the 7B / 70B sets at 16 rows, twice.
set -uo pipefail
B=.bundle
export MARLINSHARP_CACHE_DIR=/tmp/kc-fb
for round in 1 2; do
  for v in "0 2" "0 4" "1 2" "1 4" "2 4"; do
    set -- $v
    MARLINSHARP_NVRTC_EXTRA="-DMARLIN_SUBNORMAL_WEIGHTS=$1 -DMARLIN_FRAG_BUFFERS=$2" timeout 150 $B/marlin bench gemm --shape peak --m 12,16,32,64 --layers llama2-7b llama2-70b --layers-m 16 > $OUT/g.txt 2>&1
    echo "subnormal=$1 buffers=$2 round $round: $(grep -aE '^(peak|llama2-7b +16|llama2-70b +16)' $OUT/g.txt | awk '{ if ($1 == "peak") print $4, $6; else print $1, $4 }' | paste -sd' ')"
  done
done
