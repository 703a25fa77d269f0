#!/usr/bin/env bash
# Session 3: same-machine comparison of the GEMM's release order (final: release, then wait) on the peak shape.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv,noheader
for order in 1 0 1; do
  echo "-- MARLIN_RELEASE_NEXT_FIRST=$order"
  MARLINSHARP_NVRTC_EXTRA="-DMARLIN_RELEASE_NEXT_FIRST=$order" timeout 120 $B/marlin bench gemm --shape peak --m 1,2,4,8,16,32,64 2>&1 | grep -aE "^peak" | awk '{print $3, $4, $5, $6}' | tr '\n' ';'; echo
done
