#!/usr/bin/env bash
# Session 12, call 6, H100: validation and final numbers of the session's engine changes (greedy tokens inside the
# step, pipelined greedy decoding, no gather before the LM head in decode steps; the call-5 attention edit was
# reverted). Whole GPU suite, verify and sanitizers on verify --quick; memcheck and racecheck on a pipelined INT4
# generation of the committed tiny model; then e2e llama2-7b at every batch size (bench JSON) and batch 1 / 16 again.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
for tool in memcheck racecheck; do
  echo "== $tool on pipelined generate (INT4, tiny model)"
  MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 150 compute-sanitizer --tool $tool --print-limit 10 $B/marlin generate \
    --model tests/MarlinSharp.Tests/data/tiny-llama --prompt-ids 1,2,3,4,5 --int4 --max-tokens 24 2>&1 | tail -2
done
timeout 200 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1
grep -avE "^bench e2e:" $OUT/e2e.txt | tail -11
timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e2.txt 2>&1
grep -aE "^ +[0-9]+ " $OUT/e2e2.txt | awk '{print $1, $2, $5, $8}'
