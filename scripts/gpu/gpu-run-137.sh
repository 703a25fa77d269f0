#!/usr/bin/env bash
# Session 13, call 2, H100: column handoff with running-total targets. Kernel and engine GPU tests, then e2e batch 1 / 16
# with the full handoff, with the attention handoff only (MARLINSHARP_HANDOFF_NO_O=1) and without (MARLINSHARP_NO_HANDOFF=1).
set -uo pipefail
B=.bundle
timeout 200 $B/run-tests -method "*ColumnSignal*" -method "*ColumnWait*" -method "*EveryEpilogueOnceOnASmallLayer*" > $OUT/kernel-tests.txt 2>&1
grep -aE "\[FAIL\]" -A14 $OUT/kernel-tests.txt | head -40; tail -1 $OUT/kernel-tests.txt
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A14 $OUT/tests.txt | head -30; tail -1 $OUT/tests.txt
for round in 1 2; do
  for mode in full attn off; do
    unset MARLINSHARP_NO_HANDOFF MARLINSHARP_HANDOFF_NO_O
    [[ $mode == off ]] && export MARLINSHARP_NO_HANDOFF=1
    [[ $mode == attn ]] && export MARLINSHARP_HANDOFF_NO_O=1
    timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$mode-$round.txt 2>&1
    echo "round $round handoff $mode:"; grep -aE "^ +[0-9]+ " $OUT/e2e-$mode-$round.txt | awk '{print "  ", $1, $2, $5, $8}'; grep -a "^marlin:" $OUT/e2e-$mode-$round.txt
  done
done
