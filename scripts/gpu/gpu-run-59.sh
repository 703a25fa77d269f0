#!/usr/bin/env bash
# (Record of what ran; the experimental switches it uses were removed after the measurement, docs/NOTES.md session 6.)
# Session 6, call 6: flag-ordered GEMM chains (o -> gate|up -> down -> next qkv ordered by counters, not grid waits):
# the chain test and the fused engine tests, then the e2e step with flags on and off, alternating.
set -uo pipefail
B=.bundle
timeout 200 $B/run-tests -method MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests.FlagOrderedChainMatchesTheGridOrderedOne \
  -method MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests.EveryEpilogueOnceOnASmallLayer > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -24; tail -1 $OUT/tests1.txt
timeout 200 $B/run-tests -class MarlinSharp.Tests.Engine.ModelGpuTests -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests > $OUT/tests2.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests2.txt | head -24; tail -1 $OUT/tests2.txt
e2e() { timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1,2 > $OUT/e2e.txt 2>&1; grep -aE "^ +(1|2) " $OUT/e2e.txt | awk -v t="$1" '{printf "%-20s b%s fp16 %s int4 %s %s\n", t, $1, $2, $5, $8}'; grep -aiE "error|exception" $OUT/e2e.txt | head -3; }
for i in 1 2; do
  e2e "flags"
  MARLINSHARP_NO_GRID_FLAGS=1 e2e "grid waits"
done
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_NO_WAIT=1" MARLINSHARP_NO_GRID_FLAGS=1 e2e "gemm no wait"
