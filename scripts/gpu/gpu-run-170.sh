#!/usr/bin/env bash
# Session 16, call 11, H100: final code (the tuner skips a cuBLASLt candidate that fails inside a capture). Whole GPU
# suite, verify, sanitizers (validate.sh); memcheck / racecheck on an FP16 generate of the committed tiny model (tuner,
# cuBLASLt, the fused normed attention); the full e2e sweep with JSON.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
for tool in memcheck racecheck; do
  echo "== $tool on generate (FP16, tiny model)"
  MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 150 compute-sanitizer --tool $tool --print-limit 10 $B/marlin generate \
    --model tests/MarlinSharp.Tests/data/tiny-llama --prompt-ids 1,2,3,4,5 --max-tokens 24 2>&1 | tail -2
done
timeout 240 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e-llama2-7b-h100-session16.json > $OUT/e2e-llama2-7b-h100-session16.txt 2>&1
grep -avE "^bench e2e:" $OUT/e2e-llama2-7b-h100-session16.txt | tr -d '\r' | tail -11
