#!/usr/bin/env bash
# Session 3, call 3: last-arriver reduction with 4 partials in flight; decode attention with more value rows in flight.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
echo "== tests (compile checks are CI's)"
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/alltests.txt | head -40; tail -1 $OUT/alltests.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
echo "== memcheck / racecheck (PDL on)"
MARLINSHARP_CACHE_DIR=/tmp/kc2 timeout 150 compute-sanitizer --tool memcheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -2
MARLINSHARP_CACHE_DIR=/tmp/kc2 timeout 150 compute-sanitizer --tool racecheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -2
echo "== gemm"
timeout 150 $B/marlin bench gemm --shape peak --m 1,8,16,32,64 --layers llama2-7b llama2-70b --json $OUT/gemm.json > $OUT/gemm.txt 2>&1; grep -aE "^peak|^llama" $OUT/gemm.txt
timeout 60 $B/marlin bench gemm --m 1 --layers llama2-7b 2>&1 | grep -aE "^llama"
echo "== e2e llama2-7b with profile"
timeout 240 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; grep -v "^bench e2e" $OUT/e2e.txt | head -40
