#!/usr/bin/env bash
# Session 12, call 1, H100: where an INT4 decode step goes now. e2e llama2-7b at batch 1 and 16 with --profile (per-op
# GPU time, and the new back-to-back figure: steps queued without reading tokens back, so the host's share per step
# shows), then the same without attention (MARLINSHARP_DEBUG_SKIP_OPS, timing only) to see what attention costs inside
# the pipelined chain.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,power.limit --format=csv,noheader
timeout 240 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/prof.txt 2>&1
grep -avE "^bench e2e:" $OUT/prof.txt | tail -80
for skip in attention qkv; do
  echo "== skip $skip"
  MARLINSHARP_DEBUG_SKIP_OPS=$skip timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$skip.txt 2>&1
  grep -aE "^ +[0-9]+ " $OUT/e2e-$skip.txt | awk '{print $1, $2, $5, $8}'
done
