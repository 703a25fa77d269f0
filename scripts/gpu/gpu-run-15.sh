#!/usr/bin/env bash
# Small layers: whole-column launches (no split-column reduction) against the current selection.
set -uo pipefail
B=.bundle
for shape in 4096x4096 11008x4096 4096x12288 8192x8192 4096x22016; do
  for m in 1 16; do
    if [ $m = 1 ]; then sw=1; else sw=2; fi
    for cfg in default 1,128,128,6,2,0,0,$sw,0 1,128,128,6,2,0,0,$sw,1 1,64,128,6,2,0,0,$sw,1 1,64,128,8,1,0,0,$sw,1; do
      if [ $cfg = default ]; then extra=""; else extra="--config $cfg"; fi
      r=$(timeout 60 $B/marlin bench gemm --shape $shape --m $m $extra 2>&1 | grep -E "^[0-9]+x" | awk '{print $4, $5, $6, $11}')
      echo "$shape m=$m $cfg $r"
    done
  done
done
echo "== whole-column correctness"; timeout 100 $B/run-tests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests -method "*EveryConfiguration*" 2>&1 | tail -1
