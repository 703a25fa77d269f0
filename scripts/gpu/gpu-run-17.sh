#!/usr/bin/env bash
# Last confirmation of the session: whole suite (compile checks are CI's) and the verify sweep.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A4 $OUT/alltests.txt | head -30; tail -1 $OUT/alltests.txt
timeout 120 $B/marlin verify 2>&1 | tail -1
