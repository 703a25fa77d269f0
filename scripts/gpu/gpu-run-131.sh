#!/usr/bin/env bash
# Session 12, call 4, H100: greedy tokens inside the step (finish_logits: FP32 logits and argmax in one kernel of the
# captured graph, written straight into mapped host memory), so a pipelined step is a metadata copy and a graph launch.
# Engine GPU tests, then e2e llama2-7b --profile at batch 1 / 16, and every batch size with and without pipelining.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -60; grep -a "Total:" $OUT/tests.txt
timeout 240 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/prof.txt 2>&1
grep -avE "^bench e2e:" $OUT/prof.txt | grep -aE "x$|ms/token|back to back|pipelined|^ +[0-9]+ |logits" | head -30
timeout 200 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1
grep -aE "^ +[0-9]+ " $OUT/e2e.txt | awk '{print $1, $2, $5, $8}'
echo "== no pipeline"
MARLINSHARP_NO_PIPELINE=1 timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-np.txt 2>&1
grep -aE "^ +[0-9]+ " $OUT/e2e-np.txt | awk '{print $1, $2, $5, $8}'
