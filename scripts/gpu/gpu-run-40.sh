#!/usr/bin/env bash
# Session 3, final: no L2 prefetch (measured slower); GEMMs release their dependent before waiting too.
# Whole suite, verify, sanitizers, sweep, e2e (and the same e2e with the GEMM's old wait-then-release order).
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
echo "== all tests (compile checks are CI's)"
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/alltests.txt | head -30; tail -1 $OUT/alltests.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
echo "== memcheck / racecheck / synccheck"
for tool in memcheck racecheck synccheck; do MARLINSHARP_CACHE_DIR=/tmp/kc2 timeout 150 compute-sanitizer --tool $tool --print-limit 10 $B/marlin verify --quick 2>&1 | tail -1; done
echo "== bench e2e"; timeout 150 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -10 $OUT/e2e.txt
echo "-- GEMM waits before releasing"; MARLINSHARP_NVRTC_EXTRA="-DMARLIN_RELEASE_NEXT_FIRST=0" timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 2>&1 | tail -4
echo "== bench gemm"; timeout 200 $B/marlin bench gemm --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1; grep -aE "^peak|^scaled" $OUT/gemm.txt | head -30; tail -9 $OUT/gemm.txt
echo "== llama3-8b"; timeout 120 $B/marlin bench e2e --shape llama3-8b --batch 1,16,64 --json $OUT/e2e-llama3.json 2>&1 | tail -5
