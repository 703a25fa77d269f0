#!/usr/bin/env bash
# Session 6, call 14: epilogue inputs requested before the main loop (normed: the first 256 block sums of squares of
# a row; residual: the thread's first four C values) instead of after it. Kernel and engine GPU tests, verify,
# compute-sanitizer on the streamed kernel, canonical e2e (JSON).
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Kernels -noclass MarlinSharp.Tests.Kernels.KernelCompileTests \
  -noclass MarlinSharp.Tests.Kernels.StreamKernelTests -noclass MarlinSharp.Tests.Kernels.FusedEpilogueTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; tail -1 $OUT/tests1.txt
timeout 200 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests2.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests2.txt | head -24; tail -1 $OUT/tests2.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
source $B/env.sh
SAN="compute-sanitizer --print-limit 5"
T="$DOTNET_ROOT/dotnet $bundle/tests/MarlinSharp.Tests.dll -noColor"
echo "== memcheck stream"; timeout 150 $SAN --tool memcheck $T -method MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests.EveryEpilogueOnceOnASmallLayer 2>&1 | grep -aE "ERROR SUMMARY|Total:" | tail -2
echo "== racecheck stream"; timeout 150 $SAN --tool racecheck $T -method MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests.EveryEpilogueOnceOnASmallLayer 2>&1 | grep -aE "RACECHECK SUMMARY|ERROR SUMMARY|Total:" | tail -2
echo "== e2e"
timeout 300 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -11 $OUT/e2e.txt
