#!/usr/bin/env bash
# Session 10, call 15: decode attention without room for the staged values (batch 13+ of llama2-7b) still stages its
# keys before waiting for the QKV GEMM and asks L2 for the value rows. Engine GPU tests (fused attention against the
# two-kernel path, bitwise), racecheck on the fused-attention tests, then e2e: the previous commit's CLI (marlin-old)
# against this one, alternating twice.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 240 $B/run-tests -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests -class MarlinSharp.Tests.Engine.GraphDecodeGpuTests -class MarlinSharp.Tests.Engine.ModelGpuTests -class MarlinSharp.Tests.Engine.OpsGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; grep -a "Total:" $OUT/tests1.txt
MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 200 compute-sanitizer --tool racecheck --print-limit 10 $B/run-tests -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests 2>&1 | grep -aE "SUMMARY|Total:" | tail -2
for round in 1 2; do
  for v in old new; do
    cli=$B/marlin; [[ $v == old ]] && cli=$B/marlin-old
    timeout 150 $cli bench e2e --shape llama2-7b --batch 1,8,16,32,64 > $OUT/e2e.txt 2>&1
    echo "$v round $round: $(grep -aE '^ +[0-9]+ ' $OUT/e2e.txt | awk '{print $1, $5, $8}' | paste -sd' ')"
  done
done
