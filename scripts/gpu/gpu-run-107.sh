#!/usr/bin/env bash
# Session 10, call 12: is the wgmma N=16 kernel on the peak shape bound by its activation traffic through L2 (ncu: L2 88%
# busy)? Timing switches (results wrong): without activation copies, without compute; peak shape at 12 and 16 rows.
set -uo pipefail
B=.bundle
for v in none SKIP_A_LOADS SKIP_COMPUTE; do
  extra=""; [[ $v != none ]] && extra="-DMARLIN_DEBUG_$v=1"
  MARLINSHARP_NVRTC_EXTRA="$extra" timeout 120 $B/marlin bench gemm --shape peak --m 12,16 --layers llama2-70b --layers-m 16 > $OUT/g.txt 2>&1
  echo "$v: $(grep -aE '^(peak|llama2-70b +16)' $OUT/g.txt | awk '{ if ($1 == "peak") print $4, $6; else print "70b", $4 }' | paste -sd' ')"
done
