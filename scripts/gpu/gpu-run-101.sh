#!/usr/bin/env bash
# Session 10, call 6: the wgmma kernel with grouped scales applied to per-group FP32 sums (MARLIN_FP32_SCALES=1 via
# MARLINSHARP_NVRTC_EXTRA) against FP16-scaled weights: wide-kernel GPU tests and verify with it, then the peak shape at
# 12..64 rows and the 7B / 70B layer sets at 16, alternating twice.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
export MARLINSHARP_CACHE_DIR=/tmp/kc-fp32
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_FP32_SCALES=1" timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; grep -a "Total:" $OUT/tests1.txt
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_FP32_SCALES=1" timeout 200 $B/marlin verify 2>&1 | tail -3
for round in 1 2; do
  for v in fp16 fp32; do
    echo "== $v round $round"
    extra=""; [[ $v == fp32 ]] && extra="-DMARLIN_FP32_SCALES=1"
    MARLINSHARP_NVRTC_EXTRA="$extra" timeout 150 $B/marlin bench gemm --shape peak --m 12,16,32,64 --layers llama2-7b llama2-70b --layers-m 16 > $OUT/g.txt 2>&1
    grep -aE "^(peak|llama2)" $OUT/g.txt | awk '{print $2, $3, $4, $5, $NF}' | paste -sd' '
  done
done
