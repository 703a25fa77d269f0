#!/usr/bin/env bash
# Session 10, call 10: final code, e2e llama2-7b at every batch with its JSON.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 200 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -12 $OUT/e2e.txt
