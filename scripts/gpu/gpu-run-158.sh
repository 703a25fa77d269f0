#!/usr/bin/env bash
# Session 15, call 5, H100: does cuBLAS with beta = 1 (O and down adding into the residual) cost the folded FP16 step its
# gain at batch 1? Timing switch MARLINSHARP_DEBUG_FP16_OVERWRITE=1 (beta = 0 into the residual: wrong results, same
# traffic less the read of C; the switch is removed since, NOTES step 112). Previous CLI, this one, this one overwriting; two rounds.
set -uo pipefail
B=.bundle
for round in 1 2; do
  for v in old new overwrite; do
    case $v in old) cli=marlin-old; e=A=1;; new) cli=marlin; e=A=1;; overwrite) cli=marlin; e=MARLINSHARP_DEBUG_FP16_OVERWRITE=1;; esac
    env $e timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$v-$round.txt 2>&1
    echo "== $v round $round"; grep -aE "^ +[0-9]+ " $OUT/e2e-$v-$round.txt | awk '{print "  ", $1, $2, $5, $8}'
  done
done
