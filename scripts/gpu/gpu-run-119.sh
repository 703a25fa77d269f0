#!/usr/bin/env bash
# Session 11, call 5: how well do copies and compute overlap in the wgmma kernel? Timing switches (results wrong):
# without weight copies, without any copies (compute only, from whatever the ring holds), without compute (copies
# only), against the kernel as it is; peak shape at 16, 32 and 64 rows, 7B / 70B sets at 16 rows, twice.
set -uo pipefail
B=.bundle
export MARLINSHARP_CACHE_DIR=/tmp/kc-ov
for round in 1 2; do
  for v in "" "-DMARLIN_DEBUG_SKIP_B_LOADS=1" "-DMARLIN_DEBUG_SKIP_B_LOADS=1 -DMARLIN_DEBUG_SKIP_A_LOADS=1" "-DMARLIN_DEBUG_SKIP_COMPUTE=1"; do
    MARLINSHARP_NVRTC_EXTRA="$v" timeout 150 $B/marlin bench gemm --shape peak --m 16,32,64 --layers llama2-7b llama2-70b --layers-m 16 > $OUT/g.txt 2>&1
    echo "[$v] round $round: $(grep -aE '^(peak|llama2-7b +16|llama2-70b +16)' $OUT/g.txt | awk '{ if ($1 == "peak") print $4, $6; else print $1, $4 }' | paste -sd' ')"
  done
done
