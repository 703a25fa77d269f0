#!/usr/bin/env bash
# Session 7, call 9: final code. Kernel GPU tests (selector fix for 16-row streamed CTAs included), verify, canonical GEMM sweep.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
timeout 240 $B/run-tests -namespace MarlinSharp.Tests.Kernels -noclass MarlinSharp.Tests.Kernels.KernelCompileTests \
  -noclass MarlinSharp.Tests.Kernels.StreamKernelTests -noclass MarlinSharp.Tests.Kernels.FusedEpilogueTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; tail -1 $OUT/tests1.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
echo "== gemm sweep"
timeout 330 $B/marlin bench gemm --m 1,2,4,8,16,32,64,128,256,1024 --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1
grep -aE "^peak|^scaled|^llama|^falcon|marlin:" $OUT/gemm.txt | cut -c1-140
