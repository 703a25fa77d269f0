#!/usr/bin/env bash
# Small-layer tile sweep at m=16 and SASS of the hot loop.
set -uo pipefail
B=.bundle
for shape in 8192x8192 4096x12288 11008x4096 4096x4096; do
  for cfg in 1,256,128,3,2 1,128,128,5,2 1,64,128,6,2 1,256,128,4,1 1,128,128,4,1 1,64,128,4,1; do
    r=$(timeout 60 $B/marlin bench gemm --shape $shape --m 16 --config $cfg 2>&1 | grep -E "^[0-9]+x" | awk '{print $4, $5, $6}')
    echo "$shape $cfg $r"
  done
done
export MARLINSHARP_CACHE_DIR=/tmp/kc-sass
$B/marlin bench gemm --shape 4096x4096 --m 16 --config 1,256,128,3,2 >/dev/null 2>&1
f=$(ls -S /tmp/kc-sass/*.cubin | head -1); cuobjdump -sass "$f" > $OUT/sass_m16.txt 2>&1; wc -l $OUT/sass_m16.txt
grep -cE "HMMA" $OUT/sass_m16.txt; grep -oE "^\s+/\*[0-9a-f]+\*/\s+[A-Z0-9.]+" $OUT/sass_m16.txt | awk '{print $2}' | sed 's/\..*//' | sort | uniq -c | sort -rn | head -25
