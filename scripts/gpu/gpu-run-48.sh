#!/usr/bin/env bash
# Session 5, call 1: fused decode-layer epilogues (residual + row sums of squares, RMS-normed rows, normed SwiGLU) —
# their kernel GPU tests, the engine tests, then e2e llama2-7b fused against MARLINSHARP_NO_FUSE=1 in the same call,
# and a per-op profile of the fused batch-1 step.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests > $OUT/tests1a.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests1a.txt | head -40; tail -1 $OUT/tests1a.txt
timeout 150 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests1b.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests1b.txt | head -40; tail -1 $OUT/tests1b.txt
echo "== e2e fused"
timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,2,4,8,16 --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -9 $OUT/e2e.txt
echo "== e2e unfused"
MARLINSHARP_NO_FUSE=1 timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1,4,8 2>&1 | grep -aE "^ +(1|2|4|8|16) " | sed 's/^/no fuse /'
echo "== profile"
timeout 80 $B/marlin bench e2e --shape llama2-7b --batch 1 --profile --json $OUT/profile.json > $OUT/profile.txt 2>&1; tail -30 $OUT/profile.txt
