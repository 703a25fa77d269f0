#!/usr/bin/env bash
# Session 9, call 3: two blocks of weights in flight per warp (MARLIN_W_BLOCKS = 2). Correctness of the new variants
# against float64 (plain and fused epilogues), the Llama-2 layer sets forced to one or two blocks, and e2e llama2-7b:
# the previous commit's CLI (marlin-old, same bundle) against this one with one and with two blocks, alternating.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 240 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -40; grep -a "Total:" $OUT/tests1.txt
for c in default stream,4,2,1,1 stream,4,2,1,2 stream,8,2,1,1 stream,8,2,1,2; do
  echo "== layers $c"
  extra=(); [[ $c != default ]] && extra=(--config $c)
  timeout 90 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 1,8,16 "${extra[@]}" > $OUT/l.txt 2>&1
  grep -aE "^llama|marlin:" $OUT/l.txt | awk '{print $2, $3, $5}' | paste -sd' ' | fold -w 240
done
for round in 1 2; do
  for v in old new new2; do
    echo "== e2e $v round $round"
    cli=$B/marlin; env=(); [[ $v == old ]] && cli=$B/marlin-old; [[ $v == new2 ]] && env=(MARLINSHARP_STREAM_WBLOCKS=2)
    env "${env[@]}" timeout 150 $cli bench e2e --shape llama2-7b --batch 1,8,16 > $OUT/e2e.txt 2>&1
    grep -aE "^ +(1|8|16) " $OUT/e2e.txt | awk '{print $1, $2, $5, $8}' | paste -sd' '
  done
done
