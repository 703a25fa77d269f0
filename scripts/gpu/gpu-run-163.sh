#!/usr/bin/env bash
# Session 16, call 3, H100: call 2 plus: rotary tables read before the wait, value rows loaded packed (32 rows in flight for
# head_dim 128) and from the staged tile 8 at a time. Engine GPU tests; e2e against the previous CLI (alternating);
# LLAMA_DEBUG_ATTN=3 (no dot products) and 4 (no value sums).
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests.txt | head -40; tail -1 $OUT/tests.txt
e2e() { # label, cli, env...
  local label=$1 cli=$2; shift 2
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' $OUT/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}')"
}
for i in 1 2 3; do e2e old$i marlin-old; e2e new$i marlin; done
e2e dbg3 marlin MARLINSHARP_NVRTC_EXTRA=-DLLAMA_DEBUG_ATTN=3
e2e dbg4 marlin MARLINSHARP_NVRTC_EXTRA=-DLLAMA_DEBUG_ATTN=4
