#!/usr/bin/env bash
# Session 3: selector uses plain 16-row tiles on small layers at 9..16 rows. Kernel tests, verify, layer sets, e2e.
set -uo pipefail
B=.bundle
echo "== kernel GPU tests"; timeout 240 $B/run-tests -namespace MarlinSharp.Tests.Kernels -noclass MarlinSharp.Tests.Kernels.KernelCompileTests > $OUT/ktests.txt 2>&1; grep -aE "\[FAIL\]" -A5 $OUT/ktests.txt | head -20; tail -1 $OUT/ktests.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
echo "== gemm"; timeout 150 $B/marlin bench gemm --shape peak --m 1,16 --layers all --json $OUT/gemm.json > $OUT/gemm.txt 2>&1; grep -aE "^peak|^llama|^falcon" $OUT/gemm.txt | tail -16
echo "== e2e"; timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,8,16,32 --json $OUT/e2e.json 2>&1 | tail -6
