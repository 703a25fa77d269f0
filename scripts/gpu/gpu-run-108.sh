#!/usr/bin/env bash
# Session 10, call 13: the SASS of the wgmma N=16 kernel (FP32 group scales), to count what a slab costs besides the
# dequantisation.
set -uo pipefail
B=.bundle
export MARLINSHARP_CACHE_DIR=/tmp/kc-sass
rm -rf $MARLINSHARP_CACHE_DIR
timeout 120 $B/marlin bench gemm --shape peak --m 16 > /dev/null 2>&1
for f in $MARLINSHARP_CACHE_DIR/*.cubin; do
  if cuobjdump -sass $f 2>/dev/null | grep -q 'Function : marlin_wgmma'; then
    cuobjdump -sass $f > $OUT/wgmma16.sass 2>&1
    echo "$f: $(grep -c '^ */\*[0-9a-f]*\*/' $OUT/wgmma16.sass) instructions"
  fi
done
