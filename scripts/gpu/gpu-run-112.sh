#!/usr/bin/env bash
# Session 10, call 17: final code (FP32 group scales in the wgmma kernel; decode attention stages keys and prefetches
# values when it has no room for staged values). Whole GPU suite, verify, sanitizers, racecheck / memcheck on the fused
# attention tests; GEMM sweep with JSON and SVG; e2e llama2-7b at every batch with its JSON.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
echo "== racecheck / memcheck, fused attention tests"
for tool in racecheck memcheck; do
  MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 200 compute-sanitizer --tool $tool --print-limit 10 $B/run-tests -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests 2>&1 | grep -aE "SUMMARY|Total:" | tail -2
done
echo "== gemm"
timeout 150 $B/marlin bench gemm --shape peak --m 1,2,4,8,12,16,32,64,128,256,1024 --layers all --layers-m 16 --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1
grep -aE "^peak" $OUT/gemm.txt | cut -c1-150; tail -10 $OUT/gemm.txt
echo "== e2e"
timeout 200 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -12 $OUT/e2e.txt
