#!/usr/bin/env bash
# (Record of what ran; the experimental switches it uses were removed after the measurement, docs/NOTES.md session 6.)
# Session 6, call 5: (a) decode attention stages a single-tile split's cache keys and values before waiting for the
# QKV GEMM; (b) a two-block register ring (all of a warp's first 256 k requested before the wait) on the narrow fused
# layers (o, down). GPU tests of both, then the e2e step with each setting.
set -uo pipefail
B=.bundle
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests -class MarlinSharp.Tests.Engine.FusedDecodeAttentionGpuTests > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/tests.txt | head -24; tail -1 $OUT/tests.txt
e2e() { timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1,2 > $OUT/e2e.txt 2>&1; grep -aE "^ +(1|2) " $OUT/e2e.txt | awk -v t="$1" '{printf "%-24s b%s fp16 %s int4 %s %s\n", t, $1, $2, $5, $8}'; grep -aiE "error|exception" $OUT/e2e.txt | head -3; }
for tune in 8,0,4,0 8x2,0,4,0 4x2,0,4,0 8x2,0,4x2,0 8,0,4,0; do MARLINSHARP_FUSED_TUNE=$tune e2e "tune $tune"; done
MARLINSHARP_DEBUG_SKIP_OPS=attention e2e "skip attention"
echo "== layers m=1"
for c in stream,8 stream,8,0,0,2 stream,4 stream,4,0,0,2; do
  timeout 60 $B/marlin bench gemm --shape 4096x4096 --shape 11008x4096 --shape 4096x12288 --shape 4096x22016 --m 1 --config $c > $OUT/l.txt 2>&1
  grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " $OUT/l.txt | awk -v c="$c" '{printf "%-16s %-12s m=%-3s fp16 %s int4 %s %s\n", c, $2, $3, $4, $5, $6}'
  grep -aiE "error|exception" $OUT/l.txt | head -3
done
