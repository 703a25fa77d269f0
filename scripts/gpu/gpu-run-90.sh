#!/usr/bin/env bash
# Session 9, call 1: chunks per CTA sharing one activation ring (MARLIN_CHUNKS_PER_CTA). Correctness of every shared
# variant (plain and fused epilogues) against float64, then the Llama-2 layer sets with forced configurations at
# m = 1, 8, 16, then e2e llama2-7b with the selector's streamed launches forced to 1, 2 and 4 chunks per CTA.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -40; grep -a "Total:" $OUT/tests1.txt
for c in default stream,4,2,1 stream,4,2,2 stream,4,2,4 stream,8,2,1 stream,8,2,2 stream,8,2,4 stream,8,2,8; do
  echo "== layers $c"
  extra=(); [[ $c != default ]] && extra=(--config $c)
  timeout 90 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 1,8,16 "${extra[@]}" > $OUT/l-$c.txt 2>&1
  grep -aE "^llama|marlin:" $OUT/l-$c.txt | cut -c1-120
done
for s in 1 2 4; do
  echo "== e2e chunks $s"
  MARLINSHARP_STREAM_CHUNKS=$s timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,8,16 > $OUT/e2e-$s.txt 2>&1
  tail -14 $OUT/e2e-$s.txt | cut -c1-150
done
