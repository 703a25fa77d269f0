#!/usr/bin/env bash
# Session 4, call 6: kernel and engine GPU tests on the final selector (call 5's filter matched nothing: xunit ANDs
# -class with -namespace), then the canonical GEMM sweep (peak, scaled, every layer set).
set -uo pipefail
B=.bundle
timeout 150 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests \
  -class MarlinSharp.Tests.Kernels.OverlappedLaunchGpuTests > $OUT/tests6a.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests6a.txt | head -20; tail -1 $OUT/tests6a.txt
timeout 120 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests6b.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests6b.txt | head -20; tail -1 $OUT/tests6b.txt
timeout 320 $B/marlin bench gemm --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1; tail -45 $OUT/gemm.txt
