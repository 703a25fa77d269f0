#!/usr/bin/env bash
# Session 11, call 13, H100: after the review (marlin_wgmma.cu back to its previous declaration order; only the weight-copy
# timing switch remains of this session's kernel edits): wide and dense kernel GPU tests, verify, racecheck on verify --quick.
set -uo pipefail
B=.bundle
timeout 250 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests -class MarlinSharp.Tests.Kernels.WideKernelConfigTests > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests.txt | head -20; tail -1 $OUT/tests.txt
timeout 150 $B/marlin verify 2>&1 | tail -1
MARLINSHARP_CACHE_DIR=/tmp/kc9 timeout 150 compute-sanitizer --tool racecheck --print-limit 10 $B/marlin verify --quick 2>&1 | tail -1
timeout 60 $B/marlin bench gemm --shape peak --m 16 2>&1 | grep -aE '^peak'
