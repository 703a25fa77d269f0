#!/usr/bin/env bash
# Session 16, call 12, H100: under compute-sanitizer the model keeps cublasGemmEx's choices (racecheck stopped the
# process inside cuBLASLt candidates in call 11). racecheck and memcheck on an FP16 generate of the tiny model.
set -uo pipefail
B=.bundle
for tool in racecheck memcheck; do
  echo "== $tool on generate (FP16, tiny model)"
  MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 150 compute-sanitizer --tool $tool --print-limit 10 $B/marlin generate \
    --model tests/MarlinSharp.Tests/data/tiny-llama --prompt-ids 1,2,3,4,5 --max-tokens 24 2>&1 | tail -2
done
