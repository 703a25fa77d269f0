#!/usr/bin/env bash
# Session 10, call 18: two sets of FP32 group sums alternating by tile in the wgmma kernel (MARLIN_PINGPONG via
# MARLINSHARP_NVRTC_EXTRA: 1 up to 16 rows, 2 up to 64), so that no group waits for the tensor cores before its fold.
# Wide-kernel GPU tests and verify with 2, then A/B 0 / 1 / 2 on the peak shape at 12..64 rows and the 7B / 70B sets at
# 16 rows, twice.
set -uo pipefail
B=.bundle
export MARLINSHARP_CACHE_DIR=/tmp/kc-pp
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_PINGPONG=2" timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; grep -a "Total:" $OUT/tests1.txt
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_PINGPONG=2" timeout 200 $B/marlin verify 2>&1 | tail -1
for round in 1 2; do
  for v in 0 1 2; do
    MARLINSHARP_NVRTC_EXTRA="-DMARLIN_PINGPONG=$v" timeout 150 $B/marlin bench gemm --shape peak --m 12,16,32,64 --layers llama2-7b llama2-70b --layers-m 16 > $OUT/g.txt 2>&1
    echo "pingpong=$v round $round: $(grep -aE '^(peak|llama2-7b +16|llama2-70b +16)' $OUT/g.txt | awk '{ if ($1 == "peak") print $4, $6; else print $1, $4 }' | paste -sd' ')"
  done
done
