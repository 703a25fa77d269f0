#!/usr/bin/env bash
# Session 16, call 6, H100: decode attention asks L2 for the next layer's cache rows with evict_last priority (and
# demotes its own after staging them): MARLINSHARP_ATTN_PREFETCH = fp16 / int4 / all against none, two rounds.
set -uo pipefail
B=.bundle
e2e() { # label, cli, env...
  local label=$1 cli=$2; shift 2
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' $OUT/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -a floor $OUT/e2e-$label.txt | sed 's/.*is //')"
}
for i in 1 2; do
  e2e none$i marlin
  e2e all$i marlin MARLINSHARP_ATTN_PREFETCH=all
done
