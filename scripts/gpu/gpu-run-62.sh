#!/usr/bin/env bash
# Session 6, call 9: activations staged once per CTA in shared memory (instead of two small L2 loads per slab per
# warp). Kernel and engine GPU tests, isolated layers at m = 1 / 2 / 8, then the e2e step.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests \
  -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests -class MarlinSharp.Tests.Kernels.OverlappedLaunchGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; tail -1 $OUT/tests1.txt
timeout 200 $B/run-tests -class MarlinSharp.Tests.Engine.ModelGpuTests -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests > $OUT/tests2.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests2.txt | head -24; tail -1 $OUT/tests2.txt
echo "== layers"
for c in stream,4 stream,8 dense; do
  timeout 60 $B/marlin bench gemm --shape 4096x4096 --shape 11008x4096 --shape 4096x12288 --shape 4096x22016 --m 1,2,8 --config $c > $OUT/l.txt 2>&1
  grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " $OUT/l.txt | awk -v c="$c" '{printf "%-10s %-12s m=%-2s fp16 %s int4 %s %s\n", c, $2, $3, $4, $5, $6}'
  grep -aiE "error|exception" $OUT/l.txt | head -3
done
echo "== e2e"
timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,2,4,8,16 > $OUT/e2e.txt 2>&1; tail -9 $OUT/e2e.txt
