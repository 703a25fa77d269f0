#!/usr/bin/env bash
# Session 4, call 5: streamed kernel limited to 8 rows — kernel GPU tests, verify, canonical e2e (JSON) and the
# same batches with the streamed kernel off.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests \
  -class MarlinSharp.Tests.Kernels.OverlappedLaunchGpuTests -namespace MarlinSharp.Tests.Engine > $OUT/tests5.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests5.txt | head -30; tail -1 $OUT/tests5.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
echo "== e2e"
timeout 240 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -11 $OUT/e2e.txt
MARLINSHARP_NO_STREAM=1 timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,2,4,8 2>&1 | grep -aE "^ +(1|2|4|8) " | sed 's/^/stream off /'
