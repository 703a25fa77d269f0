#!/usr/bin/env bash
# Session 10, call 4: the streamed kernel's cluster split at 16 rows. 344 CTAs of 4096x22016 (4 chunks per CTA, 4 k
# parts) put 3 CTAs on 80 SMs and 2 on 52; when issue-bound, the busiest SMs set the time. MARLINSHARP_STREAM_KPARTS
# caps the split or balances it ('balanced': least work on the busiest SM). Layers forced to streamed configs, then e2e.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
for kp in default balanced 3 2; do
  for cfg in stream,4,2,4 stream,4,3,4 stream,4,2,2; do
    echo "== kparts $kp $cfg"
    v=$kp; [[ $kp == default ]] && v=""
    MARLINSHARP_STREAM_KPARTS=$v timeout 120 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 16 --config $cfg > $OUT/g.txt 2>&1
    grep -aE "^llama2" $OUT/g.txt | awk '{print $2, $5}' | paste -sd' '
  done
done
for round in 1 2; do
  for kp in default balanced; do
    echo "== e2e kparts $kp round $round"
    v=$kp; [[ $kp == default ]] && v=""
    MARLINSHARP_STREAM_KPARTS=$v timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,8,16 > $OUT/e2e.txt 2>&1
    grep -aE "^ +[0-9]+ " $OUT/e2e.txt | awk '{print $1, $2, $5, $8}' | paste -sd' '
  done
done
