#!/usr/bin/env bash
# Session 8, call 9: final code with the 16-row wgmma kernel selected from 9 rows where 8 streamed warps do not cover
# the layer. Whole GPU suite, verify, sanitizers; peak shape and layer sets at 9..16 rows; e2e.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
echo "== gemm"
timeout 120 $B/marlin bench gemm --shape peak --m 1,8,12,16 --layers all --layers-m 12,16 --json $OUT/gemm16.json > $OUT/gemm16.txt 2>&1
grep -aE "^peak" $OUT/gemm16.txt | cut -c1-150; tail -16 $OUT/gemm16.txt
echo "== e2e"
timeout 100 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -10 $OUT/e2e.txt
