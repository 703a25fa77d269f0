#!/usr/bin/env bash
# Session 5, call 3: validation of the fused decode path (rope rounding fixed, prefetch removed, fusion up to 2 rows):
# kernel and engine GPU tests, compute-sanitizer on the fused kernels, and stream-kernel variants on the wide
# Llama-2-7B layers that fused steps stream (qkv 4096x12288, gate|up 4096x22016).
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 240 $B/run-tests -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests \
  -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests -class MarlinSharp.Tests.Kernels.OverlappedLaunchGpuTests > $OUT/tests3a.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests3a.txt | head -30; tail -1 $OUT/tests3a.txt
timeout 150 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests3b.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests3b.txt | head -30; tail -1 $OUT/tests3b.txt
source $B/env.sh
SAN="compute-sanitizer --print-limit 5"
T="$DOTNET_ROOT/dotnet $bundle/tests/MarlinSharp.Tests.dll -noColor"
echo "== memcheck fused epilogues"; timeout 120 $SAN --tool memcheck $T -method MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests.EveryEpilogueOnceOnASmallLayer 2>&1 | grep -aE "ERROR SUMMARY|Total:" | tail -2
echo "== racecheck fused epilogues"; timeout 120 $SAN --tool racecheck $T -method MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests.EveryEpilogueOnceOnASmallLayer 2>&1 | grep -aE "RACECHECK SUMMARY|ERROR SUMMARY|Total:" | tail -2
echo "== memcheck fused decode attention"; timeout 150 $SAN --tool memcheck $T -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests 2>&1 | grep -aE "ERROR SUMMARY|Total:" | tail -2
echo "== racecheck fused decode attention"; timeout 150 $SAN --tool racecheck $T -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests 2>&1 | grep -aE "RACECHECK SUMMARY|ERROR SUMMARY|Total:" | tail -2
echo "== wide layers"
for c in stream,4 stream,4,16 stream,4,32 stream,8 stream,8,16 dense; do
  timeout 60 $B/marlin bench gemm --shape 4096x12288 --shape 4096x22016 --m 1,2 --config $c 2>&1 | grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " | awk -v c="$c" '{printf "%-12s %-12s m=%-3s fp16 %s int4 %s %s\n", c, $2, $3, $4, $5, $6}'
done
