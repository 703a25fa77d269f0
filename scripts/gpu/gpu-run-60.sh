#!/usr/bin/env bash
# (Record of what ran; the experimental switches it uses were removed after the measurement, docs/NOTES.md session 6.)
# Session 6, call 7: does the streamed kernel lose HBM efficiency to its access pattern (512-byte pieces one slab row
# apart)? Loads only and full kernel, Marlin layout against each chunk's blocks read contiguously (timing only).
# Also the flag-ordered chain with longer polling intervals.
set -uo pipefail
B=.bundle
for extra in "-DMARLIN_DEBUG_SKIP_COMPUTE=1" "-DMARLIN_DEBUG_SKIP_COMPUTE=1 -DMARLIN_DEBUG_CONTIGUOUS_B=1" "" "-DMARLIN_DEBUG_CONTIGUOUS_B=1"; do
for c in stream,4 stream,8; do
  MARLINSHARP_NVRTC_EXTRA="$extra" timeout 60 $B/marlin bench gemm --shape 4096x4096 --shape 11008x4096 --shape 4096x12288 --shape 4096x22016 --m 1 --config $c > $OUT/l.txt 2>&1
  grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " $OUT/l.txt | awk -v c="$c $extra" '{printf "%-62s %-12s int4 %s %s\n", c, $2, $5, $6}'
done; done
e2e() { timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1 > $OUT/e2e.txt 2>&1; grep -aE "^ +(1|2) " $OUT/e2e.txt | awk -v t="$1" '{printf "%-30s b%s fp16 %s int4 %s %s\n", t, $1, $2, $5, $8}'; grep -aiE "error|exception" $OUT/e2e.txt | head -3; }
MARLINSHARP_NO_GRID_FLAGS=1 e2e "grid waits"
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_CONTIGUOUS_B=1" MARLINSHARP_NO_GRID_FLAGS=1 e2e "grid waits, contiguous B"
