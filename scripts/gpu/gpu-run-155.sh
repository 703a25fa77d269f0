#!/usr/bin/env bash
# Session 15, call 2, H100: FP16 decode steps with the norms folded into the QKV and gate|up projections (no norm kernels;
# rope_append_normed and swiglu_normed apply 1/rms; O and down add into the residual with beta = 1). Engine GPU tests, then
# e2e batch 1 / 16: previous CLI (marlin-old) against this one, alternating, two rounds each.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A15 $OUT/tests.txt | head -60; tail -1 $OUT/tests.txt
for round in 1 2; do
  for cli in marlin-old marlin; do
    timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$cli-$round.txt 2>&1
    echo "== $cli round $round"; grep -aE "^ +[0-9]+ " $OUT/e2e-$cli-$round.txt | awk '{print "  ", $1, $2, $5, $8}'
    grep -a 'floor' $OUT/e2e-$cli-$round.txt | sed 's/.*= //'
  done
done
