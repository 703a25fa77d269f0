#!/usr/bin/env bash
# (Record of what ran; the experimental switches it uses were removed after the measurement, docs/NOTES.md session 6.)
# Session 6, call 8: is it the activation loads? Every warp reads A from L2 with two 4-byte loads per slab (all chunks
# the same few lines). Loads only / full kernel, with and without activation traffic (timing only).
set -uo pipefail
B=.bundle
for extra in "-DMARLIN_DEBUG_SKIP_COMPUTE=1" "-DMARLIN_DEBUG_SKIP_COMPUTE=1 -DMARLIN_DEBUG_SKIP_A=1" "" "-DMARLIN_DEBUG_SKIP_A=1"; do
for c in stream,4 stream,8; do
  MARLINSHARP_NVRTC_EXTRA="$extra" timeout 60 $B/marlin bench gemm --shape 4096x4096 --shape 11008x4096 --shape 4096x12288 --shape 4096x22016 --m 1,8 --config $c > $OUT/l.txt 2>&1
  grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " $OUT/l.txt | awk -v c="$c $extra" '{printf "%-56s %-12s m=%-2s int4 %s %s\n", c, $2, $3, $5, $6}'
done; done
e2e() { timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1 > $OUT/e2e.txt 2>&1; grep -aE "^ +(1|2) " $OUT/e2e.txt | awk -v t="$1" '{printf "%-30s b%s fp16 %s int4 %s %s\n", t, $1, $2, $5, $8}'; grep -aiE "error|exception" $OUT/e2e.txt | head -3; }
MARLINSHARP_NO_GRID_FLAGS=1 e2e "grid waits"
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_SKIP_A=1" MARLINSHARP_NO_GRID_FLAGS=1 e2e "grid waits, no A loads"
