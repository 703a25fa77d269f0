#!/usr/bin/env bash
# Session 5, call 6: kernel and engine GPU tests on the final code (launcher check refactors).
set -uo pipefail
B=.bundle
timeout 240 $B/run-tests -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests \
  -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests -class MarlinSharp.Tests.Kernels.OverlappedLaunchGpuTests > $OUT/tests6a.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests6a.txt | head -30; tail -1 $OUT/tests6a.txt
timeout 150 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests6b.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests6b.txt | head -30; tail -1 $OUT/tests6b.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
