#!/usr/bin/env bash
# Session 6, call 15: the streamed kernel at 9..16 rows for layers whose chunks fit one per SM (8 warps). Kernel GPU
# tests through the selector, verify (m = 9..16 included), layer sets at m = 12 / 16, e2e at batch 8 / 16.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests \
  -class MarlinSharp.Tests.Kernels.OverlappedLaunchGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; tail -1 $OUT/tests1.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
timeout 120 $B/marlin bench gemm --layers llama2-7b --layers llama2-70b --layers-m 12,16 > $OUT/l.txt 2>&1
grep -aE "^llama" $OUT/l.txt; grep -aiE "error|exception" $OUT/l.txt | head -3
for i in 1 2; do timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 8,16 2>&1 | grep -aE "^ +(8|16) "; done
