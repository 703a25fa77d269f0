#!/usr/bin/env bash
# Session 10, call 19: review of decode attention (one staging path for keys and values or keys only). Engine GPU tests,
# racecheck / memcheck on the fused-attention tests, e2e at batch 1 and 16.
set -uo pipefail
B=.bundle
timeout 240 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; grep -a "Total:" $OUT/tests1.txt
for tool in racecheck memcheck; do
  MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 200 compute-sanitizer --tool $tool --print-limit 10 $B/run-tests -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests 2>&1 | grep -aE "SUMMARY" | tail -1
done
timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e.txt 2>&1
grep -aE '^ +[0-9]+ ' $OUT/e2e.txt | awk '{print $1, $2, $5, $8}'
