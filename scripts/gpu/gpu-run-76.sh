#!/usr/bin/env bash
# Session 7, call 6: the wgmma compile checks beside GPU tests (non-parallel collection), e2e llama2-7b, canonical GEMM sweep.
set -uo pipefail
B=.bundle
timeout 120 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelConfigTests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests \
  -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests > $OUT/t.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/t.txt | head -20; tail -1 $OUT/t.txt
echo "== bench e2e"
timeout 220 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -12 $OUT/e2e.txt
echo "== gemm sweep"
timeout 300 $B/marlin bench gemm --m 1,2,4,8,16,32,64,128,256,1024 --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1; grep -aE "^peak|^scaled|^llama2|^llama-|^falcon" $OUT/gemm.txt | cut -c1-160 | head -70
