#!/usr/bin/env bash
# Session 9, call 2: chunks per CTA at 16 rows, per layer (call 1 lost these to file names with commas); e2e batch 16
# with shared chunks only above 8 rows; where the fused batch-1 and batch-16 steps go now (ops left out).
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
for c in default stream,4,2,1 stream,4,2,2 stream,4,2,4 stream,8,2,1 stream,8,2,2; do
  echo "== layers $c"
  extra=(); [[ $c != default ]] && extra=(--config $c)
  timeout 90 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 16 "${extra[@]}" > $OUT/l.txt 2>&1
  grep -aE "^llama|marlin:" $OUT/l.txt | awk '{print $2, $5, $6}' | paste -sd' '
done
for s in 1 2 4 1 4; do
  echo "== e2e chunks $s above 8 rows"
  MARLINSHARP_STREAM_CHUNKS=$s timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 16 > $OUT/e2e.txt 2>&1
  grep -aE "^ +16 " $OUT/e2e.txt
done
for skip in none attention qkv o gateup down qkv,o,gateup,down; do
  echo "== e2e skip $skip"
  MARLINSHARP_DEBUG_SKIP_OPS=$skip timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e.txt 2>&1
  grep -aE "^ +(1|16) " $OUT/e2e.txt
done
