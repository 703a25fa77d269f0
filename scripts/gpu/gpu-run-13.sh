#!/usr/bin/env bash
# Final validation after the last kernel and engine changes.
set -uo pipefail
B=.bundle
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv; } > $OUT/checks.txt 2>&1
echo "== all tests (compile checks are CI's)"
timeout 240 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A4 $OUT/alltests.txt | head -30; tail -1 $OUT/alltests.txt
{ echo "== verify"; timeout 100 $B/marlin verify 2>&1 | tail -1
  echo "== memcheck"; MARLINSHARP_CACHE_DIR=/tmp/kc2 timeout 120 compute-sanitizer --tool memcheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -2
  echo "== racecheck"; MARLINSHARP_CACHE_DIR=/tmp/kc2 timeout 120 compute-sanitizer --tool racecheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -2
  echo "== tune m=1,8"; bash scripts/gpu/gpu-tune.sh 1,8 1,256,128,4,2,0,0,1 1,256,128,3,2,0,0,1; } >> $OUT/checks.txt 2>&1
tail -12 $OUT/checks.txt
echo "== bench gemm"; timeout 150 $B/marlin bench gemm --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1; grep -E "^peak" $OUT/gemm.txt | head -8; tail -9 $OUT/gemm.txt
echo "== bench e2e"; { timeout 100 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json 2>&1 | tail -11
  echo "-- without CUDA graphs"; MARLINSHARP_NO_GRAPHS=1 timeout 60 $B/marlin bench e2e --shape llama2-7b --batch 1,16 2>&1 | tail -5
  echo "-- transformers"; PYTHONUNBUFFERED=1 timeout 120 python3 scripts/hf_generate_bench.py $OUT/hf.json --batch 1,16 2>&1 | grep -v Warning | tail -3; } > $OUT/e2e.txt 2>&1
cat $OUT/e2e.txt
