#!/usr/bin/env bash
# Session 6, call 13: racecheck and tests of the attention fix; where the fused batch-1 step's time goes now (ops left
# out one at a time, timing only).
set -uo pipefail
B=.bundle
source $B/env.sh
SAN="compute-sanitizer --print-limit 5"
T="$DOTNET_ROOT/dotnet $bundle/tests/MarlinSharp.Tests.dll -noColor"
echo "== racecheck attention"; timeout 150 $SAN --tool racecheck $T -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests 2>&1 | grep -aE "RACECHECK SUMMARY|ERROR SUMMARY|Total:" | tail -2
echo "== memcheck attention"; timeout 150 $SAN --tool memcheck $T -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests 2>&1 | grep -aE "ERROR SUMMARY|Total:" | tail -2
timeout 200 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests2.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests2.txt | head -24; tail -1 $OUT/tests2.txt
e2e() { timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1 > $OUT/e2e.txt 2>&1; grep -aE "^ +(1|2) " $OUT/e2e.txt | awk -v t="$1" '{printf "%-28s fp16 %s int4 %s\n", t, $2, $5}'; grep -aiE "error|exception" $OUT/e2e.txt | head -3; }
e2e baseline
for ops in attention o qkv gateup down qkv,o,gateup,down; do MARLINSHARP_DEBUG_SKIP_OPS=$ops e2e "skip $ops"; done
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_NO_WAIT=1" e2e "gemm no wait"
