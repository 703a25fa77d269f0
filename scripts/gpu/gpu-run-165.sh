#!/usr/bin/env bash
# Session 16, call 5, H100: folded FP16 decode steps run attention_decode_rope with the QKV row's 1/rms (no
# rope_append_normed: six launches per layer). Engine GPU tests; e2e against commit 1929696 (alternating) and with
# MARLINSHARP_NO_FUSED_ROPE=1 (the seven-launch path of the same build).
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests.txt | head -40; tail -1 $OUT/tests.txt
e2e() { # label, cli, env...
  local label=$1 cli=$2; shift 2
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' $OUT/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -a floor $OUT/e2e-$label.txt | sed 's/.*is //')"
}
for i in 1 2 3; do e2e old$i marlin-old; e2e new$i marlin; done
e2e nofuse marlin MARLINSHARP_NO_FUSED_ROPE=1
