#!/usr/bin/env bash
# Session 8, call 6: final code. Compile checks under NVRTC 13 (stream and fused), fused-epilogue and engine GPU tests
# (normed epilogues no longer prefetch their sums of squares), canonical GEMM sweep, e2e llama2-7b.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
timeout 150 $B/run-tests -class MarlinSharp.Tests.Kernels.FusedEpilogueTests -class MarlinSharp.Tests.Kernels.StreamKernelTests \
  -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests -namespace MarlinSharp.Tests.Engine > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; grep -a "Total:" $OUT/tests1.txt
echo "== gemm sweep"
timeout 330 $B/marlin bench gemm --m 1,2,4,8,16,32,64,128,256,1024 --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1
grep -aE "^peak|^scaled|marlin:" $OUT/gemm.txt | awk '{print $1, $3, $6}' | paste -sd' '; tail -18 $OUT/gemm.txt
echo "== e2e"
timeout 100 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -10 $OUT/e2e.txt
