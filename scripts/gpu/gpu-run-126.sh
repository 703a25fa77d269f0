#!/usr/bin/env bash
# Session 11, call 12, H100: do the H200-measured choices hold on the H100? Llama-2-7B layers at 16 rows, selected
# kernel against the streamed kernel with 8 and 4 warps (4 chunks per CTA) and wgmma N = 16; e2e batch 16 with 1, 2 and
# 4 chunks per CTA for the fused 4-warp layers (MARLINSHARP_STREAM_CHUNKS; 4 is the default).
set -uo pipefail
B=.bundle
for shape in 4096x12288 4096x4096 4096x22016 11008x4096; do
  line="$shape:"
  for c in "" "--config stream,8" "--config stream,4,2,4" "--config wgmma,16,128,4,2"; do
    timeout 60 $B/marlin bench gemm --shape $shape --m 16 $c > $OUT/g.txt 2>&1
    line="$line [${c#--config }] $(grep -aE "^$shape" $OUT/g.txt | awk '{print $5}')"
  done
  echo "$line"
done
for s in 4 2 1; do
  MARLINSHARP_STREAM_CHUNKS=$s timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 16 > $OUT/e.txt 2>&1
  echo "chunks=$s: $(grep -aE '^ +16 ' $OUT/e.txt | awk '{print $2, $5, $8}')"
done
