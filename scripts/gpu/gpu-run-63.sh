#!/usr/bin/env bash
# Session 6, call 10: with staged activations the streamed kernel is chosen for wide layers up to 8 rows (4 warps,
# three CTAs per SM) and decode layers are fused up to 8 rows. Engine GPU tests, then e2e with fusion on and off.
set -uo pipefail
B=.bundle
timeout 200 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests2.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests2.txt | head -24; tail -1 $OUT/tests2.txt
echo "== e2e"
timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,2,4,8,16 > $OUT/e2e.txt 2>&1; tail -8 $OUT/e2e.txt | head -6
MARLINSHARP_NO_FUSE=1 timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1,4,8 2>&1 | grep -aE "^ +(1|2|4|8|16) " | sed 's/^/no fusion /'
echo "== layers m=4,8 selected"
timeout 60 $B/marlin bench gemm --layers llama2-7b --layers-m 1,4,8,16 > $OUT/l.txt 2>&1; grep -aE "^llama|^ *set|sum|total" $OUT/l.txt | head -30
