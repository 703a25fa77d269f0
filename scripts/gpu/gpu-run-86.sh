#!/usr/bin/env bash
# Session 8, call 7: same-call A/B of the streamed kernel, whole-k staging (commit 428025d, .bundle/cli-old) against
# per-warp activation rings, on the Llama-2 layer sets and e2e llama2-7b; then the GPU tests call 6 filtered out.
set -uo pipefail
B=.bundle
for round in 1 2; do
  for v in marlin-old marlin; do
    echo "== $v layers (round $round)"
    timeout 100 $B/$v bench gemm --layers llama2-7b llama2-70b --layers-m 1,4,8,16 > $OUT/l.txt 2>&1; tail -8 $OUT/l.txt
    echo "== $v e2e"
    timeout 100 $B/$v bench e2e --shape llama2-7b --batch 1,4,8,16 > $OUT/e.txt 2>&1; tail -6 $OUT/e.txt | head -5
  done
done
timeout 150 $B/run-tests -class MarlinSharp.Tests.Kernels.FusedEpilogueTests -class MarlinSharp.Tests.Kernels.StreamKernelTests \
  -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; grep -a "Total:" $OUT/tests1.txt
timeout 200 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests2.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests2.txt | head -30; grep -a "Total:" $OUT/tests2.txt
