#!/usr/bin/env bash
# Session 9, call 4: final code (4-warp streamed launches of 9..16 rows share activations between four chunks).
# Whole GPU suite, verify, sanitizers; GEMM sweep of the peak shape, every layer set at m = 16; e2e at every batch.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
echo "== gemm"
timeout 150 $B/marlin bench gemm --shape peak --m 1,2,4,8,12,16,32,64,128,256,1024 --layers all --layers-m 16 --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1
grep -aE "^peak" $OUT/gemm.txt | cut -c1-150; tail -8 $OUT/gemm.txt
echo "== e2e"
timeout 150 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -10 $OUT/e2e.txt
