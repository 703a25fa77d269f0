#!/usr/bin/env bash
# Session 3: 3-deep bulk ring at 17..32 rows; checks; 33..64-row ring shapes (forced).
set -uo pipefail
B=.bundle
echo "== kernel GPU tests"; timeout 240 $B/run-tests -namespace MarlinSharp.Tests.Kernels -noclass MarlinSharp.Tests.Kernels.KernelCompileTests > $OUT/ktests.txt 2>&1; grep -aE "\[FAIL\]" -A5 $OUT/ktests.txt | head -20; tail -1 $OUT/ktests.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
run() { timeout 90 $B/marlin bench gemm --shape peak --m $1 ${2:+--config $2} 2>&1 | grep -aE "^peak" | awk -v c="${2:-selected}" '{printf "%s m=%s fp16 %s int4 %s %s\n", c, $4, $5, $6, $7}'; }
run 32,48,64
for c in 4,256,128,3,1 4,256,128,4,1,0,0,0,0,1 4,256,128,3,1,0,0,0,0,1 4,256,128,5,1; do run 64 $c; done
