#!/usr/bin/env bash
# Session 11, call 10, H100: every layer set at m = 16 (call 9 ran the peak shape only), the 7B / 70B sets twice more,
# and transformers' own FP16 generate at batch 1 and 16 on the same GPU (the side-by-side row of the e2e table).
set -uo pipefail
B=.bundle
timeout 200 $B/marlin bench gemm --layers all --layers-m 16 --json $OUT/sets.json > $OUT/sets.txt 2>&1
grep -aE '^[a-z]' $OUT/sets.txt | grep -v wrote
for r in 1 2; do
  timeout 100 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 16 > $OUT/s.txt 2>&1
  echo "round $r: $(awk 'NF == 5' $OUT/s.txt | paste -sd' ')"
done
echo "-- transformers"; PYTHONUNBUFFERED=1 timeout 200 python3 scripts/hf_generate_bench.py $OUT/hf.json --batch 1,16 2>&1 | grep -v Warning | tail -3
