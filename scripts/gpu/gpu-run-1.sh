#!/usr/bin/env bash
# First GPU session: correctness, then a first benchmark slice. Output under $OUT.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee $OUT/gpu.txt
$B/marlin info 2>&1 | tee -a $OUT/gpu.txt
echo "== verify --quick"; time $B/marlin verify --quick --seed 1234 2>&1 | tail -25 | tee $OUT/verify.txt
echo "== GPU tests"; timeout 300 $B/run-tests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests -class MarlinSharp.Tests.Cuda.GpuTests > $OUT/gputests.txt 2>&1; grep -E "\[FAIL\]|passed, " $OUT/gputests.txt | head -30
echo "== bench"; timeout 200 $B/marlin bench gemm --shape peak --m 1,16,32,64,128,1024 --layers llama2-7b llama2-70b --json $OUT/bench1.json 2>&1 | tee $OUT/bench1.txt
