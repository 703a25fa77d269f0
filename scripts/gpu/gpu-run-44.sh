#!/usr/bin/env bash
# Session 4, calls 2 and 3 (the dense and register-ring rows come from call 2; call 3 after the dynamic shared memory fix): streamed kernel with cluster-aware residency; warps x stage depth against the dense kernel.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
echo "== stream kernel tests"
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests > $OUT/tests2.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests2.txt | head -30; tail -1 $OUT/tests2.txt
S="--shape 4096x4096 --shape 4096x12288 --shape 11008x4096 --shape 4096x22016 --shape 8192x8192 --shape 28672x8192 --shape peak"
for c in stream,4,16 stream,8,16 stream,4,32 stream,8,32; do
  timeout 120 $B/marlin bench gemm $S --m 1,4,16 --config $c 2>&1 | grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " | awk -v c="$c" '{printf "%-12s %-12s m=%-3s fp16 %s int4 %s %s\n", c, $2, $3, $4, $5, $6}'
done
