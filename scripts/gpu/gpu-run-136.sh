#!/usr/bin/env bash
# Session 13, call 1, H100: column handoff (QKV -> attention -> o through per-KV-head flags).
# New kernel and engine GPU tests, then e2e batch 1 / 16 with the handoff on and off (MARLINSHARP_NO_HANDOFF=1), twice.
set -uo pipefail
B=.bundle
timeout 200 $B/run-tests -method "*ColumnSignal*" -method "*ColumnWait*" -method "*EveryEpilogueOnceOnASmallLayer*" > $OUT/kernel-tests.txt 2>&1
grep -aE "\[FAIL\]" -A14 $OUT/kernel-tests.txt | head -40; tail -1 $OUT/kernel-tests.txt
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A14 $OUT/tests.txt | head -60; tail -1 $OUT/tests.txt
for round in 1 2; do
  for mode in on off; do
    if [[ $mode == off ]]; then export MARLINSHARP_NO_HANDOFF=1; else unset MARLINSHARP_NO_HANDOFF; fi
    timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$mode-$round.txt 2>&1
    echo "round $round handoff $mode:"; grep -aE "^ +[0-9]+ " $OUT/e2e-$mode-$round.txt | awk '{print "  ", $1, $2, $5, $8}'
  done
done
unset MARLINSHARP_NO_HANDOFF
