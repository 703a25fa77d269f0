#!/usr/bin/env bash
# Session 5, call 5: engine GPU tests after limiting the fused rope kernel to INT4 models.
set -uo pipefail
B=.bundle
timeout 150 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests5.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests5.txt | head -30; tail -1 $OUT/tests5.txt
