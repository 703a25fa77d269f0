#!/usr/bin/env bash
# Session 8, call 10: after the review (ChooseLaunch asks Choose only when the wgmma kernel is not already taken):
# the kernel GPU tests through the selector, and verify.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Kernels -noclass MarlinSharp.Tests.Kernels.KernelCompileTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; grep -a "Total:" $OUT/tests1.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
