#!/usr/bin/env bash
# Session 3, final call: canonical GEMM sweep and e2e with PDL and the latency-bound engine kernels reworked;
# same-call comparisons without PDL and without graphs; transformers' generate side by side; synccheck.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
echo "== synccheck"; MARLINSHARP_CACHE_DIR=/tmp/kc2 timeout 120 compute-sanitizer --tool synccheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -2
echo "== bench gemm"; timeout 200 $B/marlin bench gemm --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1; grep -aE "^peak|^scaled" $OUT/gemm.txt | head -30; tail -9 $OUT/gemm.txt
echo "== bench e2e"; timeout 150 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -10 $OUT/e2e.txt
echo "-- without PDL"; MARLINSHARP_NO_PDL=1 timeout 80 $B/marlin bench e2e --shape llama2-7b --batch 1,16 2>&1 | tail -4
echo "-- without CUDA graphs"; MARLINSHARP_NO_GRAPHS=1 timeout 80 $B/marlin bench e2e --shape llama2-7b --batch 1,16 2>&1 | tail -4
echo "-- transformers"; PYTHONUNBUFFERED=1 timeout 130 python3 scripts/hf_generate_bench.py $OUT/hf.json --batch 1,16 2>&1 | grep -v Warning | tail -3
