#!/usr/bin/env bash
# Session 3, call 2: latency-bound engine kernels reworked (norms one load round per row, rope one thread per pair,
# attention values 8 rows in flight); profile with the GPU held while the host queues the step.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
echo "== tests (compile checks are CI's)"
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/alltests.txt | head -40; tail -1 $OUT/alltests.txt
echo "== e2e llama2-7b with profile"
timeout 240 $B/marlin bench e2e --shape llama2-7b --batch 1,16,64 --profile --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; grep -v "^bench e2e" $OUT/e2e.txt | tail -75
