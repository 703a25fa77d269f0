#!/usr/bin/env bash
# Session 5, call 4: final code — verify sweep, canonical e2e llama2-7b (JSON), and in the same call the e2e with the
# rope fusion off and with every fusion off.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
echo "== e2e"
timeout 260 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -11 $OUT/e2e.txt
echo "== e2e rope fusion off"
MARLINSHARP_NO_FUSED_ROPE=1 timeout 90 $B/marlin bench e2e --shape llama2-7b --batch 1,2,16 2>&1 | grep -aE "^ +(1|2|4|8|16) " | sed 's/^/no fused rope /'
echo "== e2e all fusion off"
MARLINSHARP_NO_FUSE=1 timeout 90 $B/marlin bench e2e --shape llama2-7b --batch 1,2,16 2>&1 | grep -aE "^ +(1|2|4|8|16) " | sed 's/^/no fusion /'
