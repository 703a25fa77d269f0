#!/usr/bin/env bash
# Session 14, call 7, H100 (timing switch): 4-warp CTAs for the narrow layers (o, down) of up to 8 rows
# (MARLINSHARP_DEBUG_NARROW_4W=1), so that the down GEMM's CTAs fit beside gate|up's; two rounds alternating.
set -uo pipefail
B=.bundle
e2e() { # label, env...
  local label=$1; shift
  env "$@" timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,2,4,8 > $OUT/e2e-$label.txt 2>&1
  grep -aE "^ +[0-9]+ " $OUT/e2e-$label.txt | awk -v l=$label '{printf "  %-10s b%-3s fp16 %s int4 %s %s\n", l, $1, $2, $5, $8}'
}
for r in 1 2; do
  e2e base-$r X=1
  e2e n4w-$r MARLINSHARP_DEBUG_NARROW_4W=1
done
MARLINSHARP_DEBUG_NARROW_4W=1 timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1 --profile > $OUT/profile.txt 2>&1
grep -aE "kernels:" $OUT/profile.txt
