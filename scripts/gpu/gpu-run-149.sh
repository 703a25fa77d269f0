#!/usr/bin/env bash
# Session 14, call 6, H100: fused 4-warp launches of up to 8 rows unsplit (the chain's QKV 1x192): engine GPU tests, e2e
# against the previous CLI (5896d73); and, as a timing switch, fewer k parts for the fused 4-warp 16-row launches
# (MARLINSHARP_DEBUG_KPARTS_16 = 2, 3, 4; now qkv 6x48, gate|up 4x86).
set -uo pipefail
B=.bundle
timeout 240 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -30; tail -1 $OUT/tests.txt
e2e() { # label, cli, env...
  local label=$1 cli=$2; shift 2
  env "$@" timeout 120 $cli bench e2e --shape llama2-7b --batch 1,2,16 > $OUT/e2e-$label.txt 2>&1
  grep -aE "^ +[0-9]+ " $OUT/e2e-$label.txt | awk -v l=$label '{printf "  %-10s b%-3s fp16 %s int4 %s %s\n", l, $1, $2, $5, $8}'
}
for r in 1 2; do
  e2e new-$r $B/marlin X=1
  e2e old-$r $B/marlin-old X=1
done
for c in 2 3 4; do e2e kp16-$c $B/marlin MARLINSHARP_DEBUG_KPARTS_16=$c; done
