#!/usr/bin/env bash
# Session 8, call 1: streamed kernel with per-warp activation rings (any k, 16 rows on wide layers). Correctness of the
# streamed and fused kernels, then the peak shape and the Llama-2 layer sets, selection against forced variants.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; tail -1 $OUT/tests1.txt
for c in default stream,4 stream,4,3 stream,8; do
  echo "== peak $c"
  extra=(); [[ $c != default ]] && extra=(--config $c)
  timeout 120 $B/marlin bench gemm --shape peak --m 1,4,8,12,16 "${extra[@]}" > $OUT/peak-$c.txt 2>&1
  grep -aE "^peak|marlin:" $OUT/peak-$c.txt | cut -c1-150
done
for c in default dense stream,4; do
  echo "== layers $c"
  extra=(); [[ $c != default ]] && extra=(--config $c)
  timeout 150 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 1,8,12,16 "${extra[@]}" > $OUT/layers-$c.txt 2>&1
  tail -12 $OUT/layers-$c.txt | cut -c1-150
done
