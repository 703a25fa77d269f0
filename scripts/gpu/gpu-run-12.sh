#!/usr/bin/env bash
# Final validation of the session: every test on the GPU, the verify sweep, sanitizers, the full benchmarks.
set -uo pipefail
B=.bundle
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv; $B/marlin info; } > $OUT/checks.txt 2>&1
echo "== all tests (compile checks are CI's)"
timeout 240 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" $OUT/alltests.txt | head -20; tail -1 $OUT/alltests.txt
{ echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -2
  echo "== memcheck"; MARLINSHARP_CACHE_DIR=/tmp/kc2 timeout 150 compute-sanitizer --tool memcheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -3
  echo "== racecheck"; MARLINSHARP_CACHE_DIR=/tmp/kc2 timeout 150 compute-sanitizer --tool racecheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -3
  echo "== tune m=1,8"; bash scripts/gpu/gpu-tune.sh 1,8 1,256,128,3,2,0,0,1 1,256,128,6,1,0,0,1 1,256,128,4,1,0,0,1; } >> $OUT/checks.txt 2>&1
tail -22 $OUT/checks.txt
echo "== bench gemm"; timeout 200 $B/marlin bench gemm --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1; grep -E "^peak|^scaled" $OUT/gemm.txt; tail -10 $OUT/gemm.txt
echo "== bench e2e"; timeout 150 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -11 $OUT/e2e.txt
