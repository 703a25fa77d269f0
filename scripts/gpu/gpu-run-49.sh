#!/usr/bin/env bash
# Session 5, call 2: fused decode layers limited to 4 rows, rope + KV append fused into decode attention, L2 prefetch of
# the next GEMM's weights (GEMM tails, and during attention). GPU tests, then e2e llama2-7b with everything on, without
# the prefetch, and without fusion, in the same call; a profile of the batch-1 step.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests > $OUT/tests2a.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests2a.txt | head -30; tail -1 $OUT/tests2a.txt
timeout 150 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests2b.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests2b.txt | head -40; tail -1 $OUT/tests2b.txt
echo "== e2e all on"
timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,2,4,8,16 --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -9 $OUT/e2e.txt
echo "== e2e no prefetch"
MARLINSHARP_NO_PREFETCH=1 timeout 80 $B/marlin bench e2e --shape llama2-7b --batch 1,4 2>&1 | grep -aE "^ +(1|2|4|8|16) " | sed 's/^/no prefetch /'
echo "== e2e no fusion"
MARLINSHARP_NO_FUSE=1 timeout 80 $B/marlin bench e2e --shape llama2-7b --batch 1,4 2>&1 | grep -aE "^ +(1|2|4|8|16) " | sed 's/^/no fuse /'
echo "== profile"
timeout 80 $B/marlin bench e2e --shape llama2-7b --batch 1 --profile --json $OUT/profile.json > $OUT/profile.txt 2>&1; tail -16 $OUT/profile.txt
