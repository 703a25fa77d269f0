#!/usr/bin/env bash
# Session 3, call 1: programmatic dependent launch (PDL) — correctness with it on, then GEMM and e2e timings with it on
# and off in the same call, and the per-op profile of a decode step.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
echo "== tests (compile checks are CI's)"
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/alltests.txt | head -40; tail -1 $OUT/alltests.txt
echo "== gemm, PDL on / off"
for pdl in 0 1; do
  MARLINSHARP_NO_PDL=$pdl timeout 120 $B/marlin bench gemm --shape peak --m 1,16,32,64 --layers llama2-7b llama2-70b --json $OUT/gemm-nopdl$pdl.json > $OUT/gemm-nopdl$pdl.txt 2>&1
  echo "-- MARLINSHARP_NO_PDL=$pdl"; grep -aE "^peak|^llama" $OUT/gemm-nopdl$pdl.txt
done
echo "== e2e llama2-7b, PDL on (with profile) / off"
timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile --json $OUT/e2e-pdl.json > $OUT/e2e-pdl.txt 2>&1; tail -60 $OUT/e2e-pdl.txt
MARLINSHARP_NO_PDL=1 timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-nopdl.txt 2>&1; tail -5 $OUT/e2e-nopdl.txt
