#!/usr/bin/env bash
# Session 12, call 7, H200: the session's engine changes on the H200 (pipelined greedy decoding, greedy tokens inside
# the step): engine GPU tests, e2e llama2-7b at every batch size, and batch 1 / 16 unpipelined in the same call.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,power.limit --format=csv,noheader
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -40; grep -a "Total:" $OUT/tests.txt
timeout 200 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1
grep -avE "^bench e2e:" $OUT/e2e.txt | tail -11
echo "== no pipeline"
MARLINSHARP_NO_PIPELINE=1 timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-np.txt 2>&1
grep -aE "^ +[0-9]+ " $OUT/e2e-np.txt | awk '{print $1, $2, $5, $8}'
