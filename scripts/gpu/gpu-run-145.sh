#!/usr/bin/env bash
# Session 14, call 2, H100: where batch 16's decode step goes with graphs on (each fused op left out in turn, timing only),
# and 4-warp CTAs for the narrow 16-row layers (MARLINSHARP_FUSED_WARPS=4, with 4 / 2 / 1 chunks per CTA).
set -uo pipefail
B=.bundle
e2e() { # label, env...
  local label=$1; shift
  env "$@" timeout 90 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$label.txt 2>&1
  grep -aE "^ +[0-9]+ " $OUT/e2e-$label.txt | awk -v l=$label '{printf "  %-14s b%-3s fp16 %s int4 %s %s\n", l, $1, $2, $5, $8}'
}
e2e base X=1
for op in qkv attention o gateup down; do e2e skip-$op MARLINSHARP_DEBUG_SKIP_OPS=$op; done
e2e base2 X=1
e2e w4c4 MARLINSHARP_FUSED_WARPS=4
e2e w4c2 MARLINSHARP_FUSED_WARPS=4 MARLINSHARP_STREAM_CHUNKS=2
e2e w4c1 MARLINSHARP_FUSED_WARPS=4 MARLINSHARP_STREAM_CHUNKS=1
e2e base3 X=1
MARLINSHARP_FUSED_WARPS=4 timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 16 --profile > $OUT/profile-w4.txt 2>&1
grep -aE "kernels:" $OUT/profile-w4.txt
