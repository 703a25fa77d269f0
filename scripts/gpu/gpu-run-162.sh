#!/usr/bin/env bash
# Session 16, call 2, H100: decode attention scores on the tensor cores (mma m16n8k16, fragments through shared memory
# to one key per lane); attention_decode stages its cache rows before it waits (empty-split fix). Engine GPU tests; e2e
# against the previous CLI (alternating); LLAMA_DEBUG_ATTN=3 (no dot products) for what the scores cost now.
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
