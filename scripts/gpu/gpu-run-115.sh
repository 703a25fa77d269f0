#!/usr/bin/env bash
# Session 11, call 1: subnormal weights in the wgmma kernel (MARLIN_SUBNORMAL_WEIGHTS: codes masked straight into FP16
# subnormals, 1/16 on the high-nibble activations, the zero point as one more wgmma per slab; 0 off, 1 up to 32 rows,
# 2 up to 64). Compile checks (spills, serialised wgmma), wide-kernel tests and verify with 2, then A/B 0 / 1 / 2 on the
# peak shape at 12..64 rows and the 7B / 70B sets at 16 rows, twice.
set -uo pipefail
B=.bundle
export MARLINSHARP_CACHE_DIR=/tmp/kc-sn
for v in 1 2; do
  MARLINSHARP_NVRTC_EXTRA="-DMARLIN_SUBNORMAL_WEIGHTS=$v" timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.KernelCompileTests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests > $OUT/tests$v.txt 2>&1
  grep -aE "\[FAIL\]" -A12 $OUT/tests$v.txt | head -40; grep -a "Total:" $OUT/tests$v.txt
done
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_SUBNORMAL_WEIGHTS=2" timeout 200 $B/marlin verify > $OUT/verify.txt 2>&1; tail -1 $OUT/verify.txt
for round in 1 2; do
  for v in 0 1 2; do
    MARLINSHARP_NVRTC_EXTRA="-DMARLIN_SUBNORMAL_WEIGHTS=$v" timeout 150 $B/marlin bench gemm --shape peak --m 12,16,32,64 --layers llama2-7b llama2-70b --layers-m 16 > $OUT/g$v.txt 2>&1
    echo "subnormal=$v round $round: $(grep -aE '^(peak|llama2-7b +16|llama2-70b +16)' $OUT/g$v.txt | awk '{ if ($1 == "peak") print $4, $6; else print $1, $4 }' | paste -sd' ')"
  done
done
