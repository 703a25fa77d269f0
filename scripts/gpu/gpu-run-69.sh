#!/usr/bin/env bash
# (Record of what ran; the ring-blocks switch it uses was not kept, docs/NOTES.md step 47.)
# Session 6, call 16: two ring blocks revisited now that the activations are staged (narrow fused layers o and down
# request all of a warp's first 256 k before the wait). Stream-kernel tests (ring blocks 1 and 2), isolated layers,
# and the e2e step with MARLINSHARP_FUSED_RING_BLOCKS=2 against 1, alternating.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; tail -1 $OUT/tests1.txt
for c in stream,8 stream,8,0,2; do
  timeout 60 $B/marlin bench gemm --shape 4096x4096 --shape 11008x4096 --m 1,2,8 --config $c > $OUT/l.txt 2>&1
  grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " $OUT/l.txt | awk -v c="$c" '{printf "%-16s %-12s m=%-2s int4 %s %s\n", c, $2, $3, $5, $6}'
done
e2e() { timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1,4 > $OUT/e2e.txt 2>&1; grep -aE "^ +(1|4) " $OUT/e2e.txt | awk -v t="$1" '{printf "%-12s b%s fp16 %s int4 %s %s\n", t, $1, $2, $5, $8}'; grep -aiE "error|exception" $OUT/e2e.txt | head -3; }
for i in 1 2; do e2e "ring 1"; MARLINSHARP_FUSED_RING_BLOCKS=2 e2e "ring 2"; done
