#!/usr/bin/env bash
# Session 6, call 4: what each op of the fused INT4 decode step costs inside the pipelined chain (ops left out one at
# a time; outputs wrong, timing only), the cost of the GEMMs' wait for their predecessor (wait compiled out), and the
# shared-ring variants with compute left out.
set -uo pipefail
B=.bundle
e2e() { timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1 > $OUT/e2e.txt 2>&1; grep -aE "^ +1 " $OUT/e2e.txt | awk -v t="$1" '{printf "%-28s fp16 %s int4 %s\n", t, $2, $5}'; grep -aiE "error|exception" $OUT/e2e.txt | head -3; }
e2e baseline
for ops in attention o qkv gateup down qkv,o,gateup,down attention,o; do MARLINSHARP_DEBUG_SKIP_OPS=$ops e2e "skip $ops"; done
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_NO_WAIT=1" e2e "gemm no wait"
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_SKIP_COMPUTE=1" e2e "gemm loads only"
e2e baseline
echo "== loads only"
for c in stream,8 stream,8,16 stream,8,16,1 stream,4,16,1; do
  MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_SKIP_COMPUTE=1" timeout 60 $B/marlin bench gemm --shape 4096x4096 --shape 11008x4096 --shape 4096x12288 --shape 4096x22016 --m 1 --config $c > $OUT/l.txt 2>&1
  grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " $OUT/l.txt | awk -v c="$c" '{printf "%-16s %-12s m=%-3s fp16 %s int4 %s %s\n", c, $2, $3, $4, $5, $6}'
done
