#!/usr/bin/env bash
# Session 9, call 5: decode attention stages its tile only when every block is resident at once with the staged values
# (batch 16 of llama2-7b: 512 blocks, three per SM with staging, two waves). Engine GPU tests (fused attention staged
# and unstaged against the two-kernel path), then e2e: the previous commit's CLI (marlin-old) against this one,
# alternating.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 240 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -40; grep -a "Total:" $OUT/tests1.txt
for round in 1 2; do
  for v in old new; do
    echo "== e2e $v round $round"
    cli=$B/marlin; [[ $v == old ]] && cli=$B/marlin-old
    timeout 150 $cli bench e2e --shape llama2-7b --batch 1,8,16,32,64 > $OUT/e2e.txt 2>&1
    grep -aE "^ +[0-9]+ " $OUT/e2e.txt | awk '{print $1, $2, $5, $8}' | paste -sd' '
  done
done
echo "== skip attention, new"
MARLINSHARP_DEBUG_SKIP_OPS=attention timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 16 > $OUT/e2e.txt 2>&1
grep -aE "^ +[0-9]+ " $OUT/e2e.txt | awk '{print $1, $2, $5, $8}'
