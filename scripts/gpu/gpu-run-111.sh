#!/usr/bin/env bash
# Session 10, call 16: at batch 1..8 decode attention still stages its values in 32 KB of shared memory; is the
# keys-only staging with values prefetched into L2 (MARLINSHARP_NO_STAGED_VALUES=1) as good there? Alternating twice.
set -uo pipefail
B=.bundle
for round in 1 2; do
  for v in 0 1; do
    MARLINSHARP_NO_STAGED_VALUES=$v timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,2,4,8 > $OUT/e2e.txt 2>&1
    echo "no_staged_values=$v round $round: $(grep -aE '^ +[0-9]+ ' $OUT/e2e.txt | awk '{print $1, $5, $8}' | paste -sd' ')"
  done
done
