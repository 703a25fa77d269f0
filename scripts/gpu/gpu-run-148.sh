#!/usr/bin/env bash
# Session 14, call 5, H100 (timing switches): 4-warp launches of up to 8 rows without a k split
# (MARLINSHARP_DEBUG_KPARTS_4W=1: qkv 1x192 instead of 2x192), e2e at batch 1..16 and the GEMMs alone; 8-warp launches
# without a split once (MARLINSHARP_DEBUG_KPARTS_8W=1).
set -uo pipefail
B=.bundle
e2e() { # label, env...
  local label=$1; shift
  env "$@" timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,2,4,8,16 > $OUT/e2e-$label.txt 2>&1
  grep -aE "^ +[0-9]+ " $OUT/e2e-$label.txt | awk -v l=$label '{printf "  %-10s b%-3s fp16 %s int4 %s %s\n", l, $1, $2, $5, $8}'
}
for r in 1 2; do
  e2e base-$r X=1
  e2e kp1-$r MARLINSHARP_DEBUG_KPARTS_4W=1
done
e2e kp8w1 MARLINSHARP_DEBUG_KPARTS_8W=1
for v in base kp1; do
  env $([[ $v == kp1 ]] && echo MARLINSHARP_DEBUG_KPARTS_4W=1 || echo X=1) timeout 150 $B/marlin bench gemm --shape 4096x12288 4096x22016 --m 1,2,4,8 --layers llama2-7b llama2-70b --layers-m 1,8 > $OUT/gemm-$v.txt 2>&1
  echo "== gemm $v"; grep -avE "^bench|^$" $OUT/gemm-$v.txt | head -30
done
