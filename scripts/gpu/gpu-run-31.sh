#!/usr/bin/env bash
# Session 3: does the TMA bulk load path stream faster than cp.async when compute is left out? (m = 1, peak shape)
set -uo pipefail
B=.bundle
for extra in "" "-DMARLIN_DEBUG_SKIP_COMPUTE=1"; do
  echo "== NVRTC extra: '${extra}'"
  for c in 1,256,128,4,2,0,0,1 1,256,128,4,2,0,0,1,0,1 1,256,128,6,1,0,0,1,0,1 1,256,128,8,1,0,0,1,0,1 1,128,128,6,2,0,0,1,0,1 1,256,128,3,2,0,0,1,0,1; do
    r=$(MARLINSHARP_NVRTC_EXTRA="$extra" timeout 90 $B/marlin bench gemm --shape peak --m 1 --config $c 2>&1 | grep -aE "^peak" | awk '{print $4, $5, $6, $8}')
    echo "$c: $r"
  done
done
