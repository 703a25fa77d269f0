#!/usr/bin/env bash
# Session 17, call 5, H100: final code (normed GEMMs take 1/rms of a warp's rows with one round trip, one row when each
# warp has at most one; clusters of 4-warp CTAs batch several ranks' partials per round trip; L2 look-ahead switch
# removed after call 3). Whole suite, verify and sanitizers (validate.sh); e2e batch 1 and 16 against the session's
# first commit (45afe85), alternating, three rounds; the full e2e sweep with JSON.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
e2e() { # label, cli, env...
  local label=$1 cli=$2; shift 2
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}')"
}
for i in 1 2 3; do e2e old$i marlin-old; e2e new$i marlin; done
timeout 240 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e-llama2-7b-h100-session17.json > $OUT/e2e-llama2-7b-h100-session17.txt 2>&1
grep -avE "^bench e2e:" $OUT/e2e-llama2-7b-h100-session17.txt | tr -d '\r' | tail -11
