#!/usr/bin/env bash
# Session 7, call 7: what bounds the wgmma kernel (timing only: compute left out, activation copies left out).
set -uo pipefail
B=.bundle
run() { MARLINSHARP_NVRTC_EXTRA="$2" timeout 60 $B/marlin bench gemm --shape peak --m $1 > $OUT/t.txt 2>&1; grep -aE "^peak" $OUT/t.txt | awk -v t="$2" '{print $4, $5, $6, $7, $NF, t}'; grep -aiE "error|exception" $OUT/t.txt | head -2; }
for m in 32,64,128,1024; do
  run $m ""
  run $m "-DMARLIN_DEBUG_SKIP_COMPUTE=1"
  run $m "-DMARLIN_DEBUG_SKIP_A_LOADS=1"
  run $m "-DMARLIN_DEBUG_SKIP_COMPUTE=1 -DMARLIN_DEBUG_SKIP_A_LOADS=1"
done
