#!/usr/bin/env bash
# Session 10, call 14: the wgmma kernel's weights and scales by TMA bulk copies on a per-stage mbarrier
# (MARLIN_BULK_B=1 via MARLINSHARP_NVRTC_EXTRA): a quarter of the SASS of a 16-row tile was copy instructions and their
# 64-bit address arithmetic. Wide-kernel GPU tests and verify with it, then A/B on the peak shape at 12..64 rows and the
# 7B / 70B sets at 16 rows, alternating twice.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
export MARLINSHARP_CACHE_DIR=/tmp/kc-bulk
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_BULK_B=1" timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; grep -a "Total:" $OUT/tests1.txt
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_BULK_B=1" timeout 200 $B/marlin verify 2>&1 | tail -1
for round in 1 2; do
  for v in 0 1; do
    MARLINSHARP_NVRTC_EXTRA="-DMARLIN_BULK_B=$v" timeout 150 $B/marlin bench gemm --shape peak --m 12,16,32,64 --layers llama2-7b llama2-70b --layers-m 16 > $OUT/g.txt 2>&1
    echo "bulk=$v round $round: $(grep -aE '^(peak|llama2-7b +16|llama2-70b +16)' $OUT/g.txt | awk '{ if ($1 == "peak") print $4, $6; else print $1, $4 }' | paste -sd' ')"
  done
done
