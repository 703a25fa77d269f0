#!/usr/bin/env bash
# Confirmation after making streamless fills/copies synchronous: the whole suite (compile checks are CI's).
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A4 $OUT/alltests.txt | head -30; tail -1 $OUT/alltests.txt
