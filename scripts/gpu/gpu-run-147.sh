#!/usr/bin/env bash
# Session 14, call 4, H100 (timing switches): 4-warp launches without a k split (MARLINSHARP_DEBUG_KPARTS_4W=1: qkv 1x192
# at batch 1) and deeper activation rings for the 8-warp 16-row layers (MARLINSHARP_DEBUG_A_RING_8W=3, 4), two rounds.
set -uo pipefail
B=.bundle
e2e() { # label, env...
  local label=$1; shift
  env "$@" timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$label.txt 2>&1
  grep -aE "^ +[0-9]+ " $OUT/e2e-$label.txt | awk -v l=$label '{printf "  %-10s b%-3s fp16 %s int4 %s %s\n", l, $1, $2, $5, $8}'
}
for r in 1 2; do
  e2e base-$r X=1
  e2e kp1-$r MARLINSHARP_DEBUG_KPARTS_4W=1
  e2e ring3-$r MARLINSHARP_DEBUG_A_RING_8W=3
  e2e ring4-$r MARLINSHARP_DEBUG_A_RING_8W=4
done
MARLINSHARP_DEBUG_KPARTS_4W=1 MARLINSHARP_DEBUG_A_RING_8W=3 timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/profile.txt 2>&1
grep -aE "kernels:" $OUT/profile.txt
