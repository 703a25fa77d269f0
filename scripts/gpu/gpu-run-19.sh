#!/usr/bin/env bash
# Validation with bulk weight copies selected for 9..16 rows: kernel GPU tests, verify, sanitizers, benchmark.
set -uo pipefail
B=.bundle
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/tests.txt | head -24; tail -1 $OUT/tests.txt
timeout 100 $B/marlin verify 2>&1 | tail -1
MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 120 compute-sanitizer --tool memcheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -1
MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 120 compute-sanitizer --tool racecheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -1
MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 120 compute-sanitizer --tool synccheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -1
timeout 150 $B/marlin bench gemm --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1; grep -E "^peak|^scaled" $OUT/gemm.txt | head -20; tail -9 $OUT/gemm.txt
