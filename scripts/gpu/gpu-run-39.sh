#!/usr/bin/env bash
# Session 3: L2 prefetch of the weight stripe before griddepcontrol.wait; engine kernels trigger their dependent first.
set -uo pipefail
B=.bundle
echo "== all tests (compile checks are CI's)"
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/alltests.txt | head -30; tail -1 $OUT/alltests.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
echo "== gemm"; timeout 150 $B/marlin bench gemm --shape peak --m 1,16,64 --layers llama2-7b llama2-70b 2>&1 | grep -aE "^peak|^llama"
echo "== e2e"; timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16,64 --json $OUT/e2e.json 2>&1 | tail -5
echo "-- prefetch off"; MARLINSHARP_NVRTC_EXTRA="-DMARLIN_L2_PREFETCH_BYTES=0" timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 2>&1 | tail -4
