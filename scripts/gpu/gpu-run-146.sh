#!/usr/bin/env bash
# Session 14, call 3, H100: partner prefetch in attention_decode_rope (the first blocks of a one-wave launch ask L2 for the
# cache rows of the blocks not yet resident). Engine GPU tests, then e2e with it at normal priority (default), off and
# evict_last, alternating, two rounds.
set -uo pipefail
B=.bundle
timeout 240 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -30; tail -1 $OUT/tests.txt
e2e() { # label, env...
  local label=$1; shift
  env "$@" timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16,32 > $OUT/e2e-$label.txt 2>&1
  grep -aE "^ +[0-9]+ " $OUT/e2e-$label.txt | awk -v l=$label '{printf "  %-10s b%-3s fp16 %s int4 %s %s\n", l, $1, $2, $5, $8}'
}
for r in 1 2; do
  e2e pp1-$r X=1
  e2e pp0-$r MARLINSHARP_NVRTC_EXTRA=-DLLAMA_PARTNER_PREFETCH=0
  e2e pp2-$r MARLINSHARP_NVRTC_EXTRA=-DLLAMA_PARTNER_PREFETCH=2
done
