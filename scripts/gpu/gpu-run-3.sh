#!/usr/bin/env bash
# Where does the time go at small batch? Time variants that leave out the compute or the weight loads.
set -uo pipefail
for cfg in 1,256,128,4,1 1,256,128,3,2 1,128,128,4,1; do
  for extra in "" "-DMARLIN_DEBUG_SKIP_COMPUTE=1" "-DMARLIN_DEBUG_SKIP_B_LOADS=1" "-DMARLIN_DEBUG_SKIP_COMPUTE=1 -DMARLIN_DEBUG_SKIP_B_LOADS=1"; do
    echo "-- $cfg [$extra]"
    MARLINSHARP_NVRTC_EXTRA="$extra" bash scripts/gpu/gpu-tune.sh 1,16 "$cfg"
  done
done
