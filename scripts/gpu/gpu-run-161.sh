#!/usr/bin/env bash
# Session 16, call 1, H100: attention_decode stages its cache rows before it waits (FP16 decode: overlaps
# rope_append_normed). Attention GPU tests; e2e against the previous CLI (alternating); where attention's time goes
# (LLAMA_DEBUG_ATTN: 1 = blocks end after the wait, 3 = no dot products, 4 = no value sums; skip switches).
set -uo pipefail
B=.bundle
timeout 240 $B/run-tests -class MarlinSharp.Tests.Engine.OpsGpuTests -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -30; tail -1 $OUT/tests.txt
e2e() { # label, cli, env...
  local label=$1 cli=$2; shift 2
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' $OUT/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}')"
}
for i in 1 2; do e2e old$i marlin-old; e2e new$i marlin; done
e2e skipattn marlin MARLINSHARP_DEBUG_SKIP_OPS=attention
e2e skiprope marlin MARLINSHARP_DEBUG_SKIP_OPS=rope
e2e dbg1 marlin MARLINSHARP_NVRTC_EXTRA=-DLLAMA_DEBUG_ATTN=1
e2e dbg3 marlin MARLINSHARP_NVRTC_EXTRA=-DLLAMA_DEBUG_ATTN=3
e2e dbg4 marlin MARLINSHARP_NVRTC_EXTRA=-DLLAMA_DEBUG_ATTN=4
