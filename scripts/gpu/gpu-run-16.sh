#!/usr/bin/env bash
# Is the weight stream limited by its access pattern? Marlin layout (8 x 2 KB chunks per tile, 147 KB apart) against one
# contiguous block per tile (debug switch: same bytes, results wrong), with and without compute. m = 1 and 16, peak shape.
set -uo pipefail
for extra in "" "-DMARLIN_DEBUG_CONTIGUOUS_B=1" "-DMARLIN_DEBUG_SKIP_COMPUTE=1" "-DMARLIN_DEBUG_SKIP_COMPUTE=1 -DMARLIN_DEBUG_CONTIGUOUS_B=1"; do
  echo "-- [$extra]"
  MARLINSHARP_NVRTC_EXTRA="$extra" bash scripts/gpu/gpu-tune.sh 1 1,256,128,4,2,0,0,1 1,256,128,6,1,0,0,1
  MARLINSHARP_NVRTC_EXTRA="$extra" bash scripts/gpu/gpu-tune.sh 16 1,256,128,3,2,0,0,2
done
