#!/usr/bin/env bash
# Session 8, call 2: e2e llama2-7b with fused epilogues up to 16 rows (activation rings), against unfused in the same call;
# load-only timing of the 16-row streamed kernel (compute left out; results wrong).
set -uo pipefail
B=.bundle
timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,8,16 --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -6 $OUT/e2e.txt
MARLINSHARP_NO_FUSE=1 timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 8,16 > $OUT/e2e-nofuse.txt 2>&1; tail -4 $OUT/e2e-nofuse.txt
echo "== load only"
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_SKIP_COMPUTE=1" MARLINSHARP_CACHE_DIR=/tmp/skipcache timeout 100 $B/marlin bench gemm --layers llama2-7b --layers-m 1,8,16 > $OUT/skip.txt 2>&1
grep -aE "4096x|11008x" $OUT/skip.txt | cut -c1-150
