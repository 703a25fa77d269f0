#!/usr/bin/env bash
# Session 8, call 3: what bounds the streamed kernel at 16 rows. L2 prefetch of each warp's weights 1 or 2 blocks ahead
# (MARLIN_L2_PREFETCH), and half the activation rows copied (MARLIN_DEBUG_A_HALF, timing only), on the Llama-2-7B layers.
set -uo pipefail
B=.bundle
for v in base "-DMARLIN_L2_PREFETCH=1" "-DMARLIN_L2_PREFETCH=2" "-DMARLIN_DEBUG_A_HALF=1" base; do
  echo "== $v"
  extra=""; [[ $v != base ]] && extra=$v
  MARLINSHARP_NVRTC_EXTRA="$extra" MARLINSHARP_CACHE_DIR=/tmp/cache-${#extra}-${extra: -1} timeout 100 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 1,8,16 > $OUT/v.txt 2>&1
  grep -aE "4096x|11008x|8192x8192|8192x10240" $OUT/v.txt | awk '{print $2, $3, $5, $6}' | paste -sd' ' | sed 's/llama/\n/g'
  tail -6 $OUT/v.txt
done
for v in base "-DMARLIN_L2_PREFETCH=1"; do
  extra=""; [[ $v != base ]] && extra=$v
  echo "== e2e $v"
  MARLINSHARP_NVRTC_EXTRA="$extra" MARLINSHARP_CACHE_DIR=/tmp/cache-${#extra}-${extra: -1} timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e.txt 2>&1; tail -4 $OUT/e.txt | head -3
done
