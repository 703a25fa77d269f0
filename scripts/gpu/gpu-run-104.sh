#!/usr/bin/env bash
# Session 10, call 9: final code (FP32 group scales in the wgmma kernel). Whole GPU suite, verify, sanitizers; GEMM sweep
# of the peak shape and every layer set at m = 16, with JSON and SVG.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
echo "== gemm"
timeout 150 $B/marlin bench gemm --shape peak --m 1,2,4,8,12,16,32,64,128,256,1024 --layers all --layers-m 16 --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1
grep -aE "^peak" $OUT/gemm.txt | cut -c1-150; tail -10 $OUT/gemm.txt
