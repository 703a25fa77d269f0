#!/usr/bin/env bash
set -uo pipefail
B=.bundle
echo "== verify"; timeout 120 $B/marlin verify --seed 11 2>&1 | tail -1
echo "== kernel GPU tests"; timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests > $OUT/gputests.txt 2>&1; grep -aE "\[FAIL\]|passed, " $OUT/gputests.txt | head -10
echo "== bench"; timeout 150 $B/marlin bench gemm --shape peak --m 1,8,16,32,64,128 --layers llama2-7b llama2-70b --json $OUT/bench.json 2>&1 | tail -22
for shape in 8192x10240 28672x8192 4096x22016; do
  for cfg in 1,256,128,3,2 1,128,128,5,2; do
    r=$(timeout 60 $B/marlin bench gemm --shape $shape --m 16 --config $cfg 2>&1 | grep -E "^[0-9]+x" | awk '{print $4, $5, $6}')
    echo "$shape $cfg $r"
  done
done
