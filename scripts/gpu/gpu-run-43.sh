#!/usr/bin/env bash
# Session 4, call 1: the register-streamed small-batch kernel — correctness, then against the dense kernel in one run.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
echo "== stream kernel + sweep + chained-layer tests"
timeout 240 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests \
  -class MarlinSharp.Tests.Kernels.OverlappedLaunchGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -40; tail -1 $OUT/tests1.txt
run() { timeout 100 $B/marlin bench gemm --shape $1 --m 1,2,4,8,16 ${2:+--config $2} 2>&1 | grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " | awk -v c="${2:-auto}" '{printf "%-10s %-12s m=%-3s fp16 %s int4 %s %s %s\n", c, $2, $3, $4, $5, $6, $NF}'; }
for shape in 4096x4096 4096x12288 11008x4096 4096x22016 8192x8192 28672x8192 peak; do
  run $shape; run $shape dense; run $shape stream,8
done
