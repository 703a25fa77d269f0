#!/usr/bin/env bash
# Session 12, call 5, H100: decode attention loads its query, new key and value in one round trip after the wait (the
# rotation table before it). Engine GPU tests (fused attention bitwise against the two-kernel path), then e2e at
# batch 1 / 16: the previous commit's CLI (marlin-old) against this one, alternating, two rounds.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -60; grep -a "Total:" $OUT/tests.txt
for round in 1 2; do
  for v in old new; do
    cli=$B/marlin; [[ $v == old ]] && cli=$B/marlin-old
    timeout 150 $cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$v-$round.txt 2>&1
    echo "$v $round: $(grep -aE "^ +[0-9]+ " $OUT/e2e-$v-$round.txt | awk '{print $1, $2, $5, $8}' | paste -sd' ')"
  done
done
