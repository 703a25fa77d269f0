#!/usr/bin/env bash
# Session 6, call 12: final validation on the final kernels (staged activations, wide layers streamed and layers fused
# up to 8 rows, attention staging its cache rows before the wait): kernel and engine GPU tests, verify,
# compute-sanitizer on the streamed kernel and the fused attention, canonical e2e (JSON) and GEMM sweep (JSON, SVG).
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
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
echo "== memcheck attention"; timeout 150 $SAN --tool memcheck $T -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests 2>&1 | grep -aE "ERROR SUMMARY|Total:" | tail -2
echo "== racecheck attention"; timeout 150 $SAN --tool racecheck $T -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests 2>&1 | grep -aE "RACECHECK SUMMARY|ERROR SUMMARY|Total:" | tail -2
echo "== e2e"
timeout 300 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -11 $OUT/e2e.txt
echo "== gemm"
timeout 400 $B/marlin bench gemm --m 1,2,4,8,16,32,64,128,256,1024 --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1; tail -40 $OUT/gemm.txt
