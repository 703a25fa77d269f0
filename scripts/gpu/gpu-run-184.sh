#!/usr/bin/env bash
# Session 18, call 7, H100: final code (shared weight rings: 8-warp CTAs 4 stages up to 8 rows and 3 at 9..16; 4-warp
# CTAs up to 8 rows 3 stages with CTAs per SM capped at launch; weights and activations in commit groups of their own;
# runtime disposal without cuCtxSynchronize). Whole suite, verify and sanitizers (validate.sh); e2e batch 1 and 16 against
# MARLINSHARP_STREAM_REGISTER_RING=1 and against the session's first commit (882c4d8, cli-old), alternating, three rounds;
# the full e2e sweep with JSON.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
e2e() { # label, cli, env...
  local label=$1 cli=$2; shift 2
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -aiE 'error|exception' /tmp/e2e-$label.txt | head -2)"
}
for i in 1 2 3; do e2e first$i marlin-old; e2e reg$i marlin MARLINSHARP_STREAM_REGISTER_RING=1; e2e new$i marlin; done
timeout 240 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e-llama2-7b-h100-session18.json > $OUT/e2e-llama2-7b-h100-session18.txt 2>&1
grep -avE "^bench e2e:" $OUT/e2e-llama2-7b-h100-session18.txt | tr -d '\r' | tail -11
