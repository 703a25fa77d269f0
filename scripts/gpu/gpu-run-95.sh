#!/usr/bin/env bash
# Session 9, call 6: final code. Whole GPU suite, verify, sanitizers (also on the fused attention at batch 16, unstaged),
# and e2e llama2-7b at every batch with its JSON.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
echo "== racecheck / memcheck, fused attention tests"
for tool in racecheck memcheck; do
  MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 200 compute-sanitizer --tool $tool --print-limit 10 $B/run-tests -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests 2>&1 | grep -aE "SUMMARY|Total:" | tail -2
done
echo "== e2e"
timeout 150 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -10 $OUT/e2e.txt
