#!/usr/bin/env bash
# Session 3: attention tile staging and q loads unrolled (one round trip per batch of pieces, not per piece);
# gather_rows / embed / argmax unrolled. Tests, then e2e with profile and the full batch list.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
echo "== tests (compile checks are CI's)"
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/alltests.txt | head -40; tail -1 $OUT/alltests.txt
echo "== e2e llama2-7b with profile (batch 1, 16)"
timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile --json $OUT/e2e-profile.json > $OUT/e2e-profile.txt 2>&1; grep -v "^bench e2e" $OUT/e2e-profile.txt | head -40
echo "== e2e llama2-7b full"
timeout 150 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -10 $OUT/e2e.txt
echo "== e2e llama3-8b (GQA, 128k vocab) batch 1,16"
timeout 150 $B/marlin bench e2e --shape llama3-8b --batch 1,16 --json $OUT/e2e-llama3.json > $OUT/e2e-llama3.txt 2>&1; tail -5 $OUT/e2e-llama3.txt
