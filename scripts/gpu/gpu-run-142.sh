#!/usr/bin/env bash
# Session 13, call 7, H100: where the ~20-30 us per step between steps queued back to back and pipelined steps goes:
# --profile now also times chained steps queued back to back (ids taken on the GPU, no readback). Twice.
set -uo pipefail
B=.bundle
for round in 1 2; do
  timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/profile-$round.txt 2>&1
  echo "round $round:"; grep -aE "^ +[0-9]+ |back to back|pipelined steps|^INT4|^FP16" $OUT/profile-$round.txt | grep -v "^bench" | cut -c1-150
done
