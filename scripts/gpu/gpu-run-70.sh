#!/usr/bin/env bash
# Session 6, call 17: GPU tests after the last launcher-side change (unused residency query removed).
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Kernels -noclass MarlinSharp.Tests.Kernels.KernelCompileTests \
  -noclass MarlinSharp.Tests.Kernels.StreamKernelTests -noclass MarlinSharp.Tests.Kernels.FusedEpilogueTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; tail -1 $OUT/tests1.txt
timeout 200 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests2.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests2.txt | head -24; tail -1 $OUT/tests2.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
