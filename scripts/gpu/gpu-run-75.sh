#!/usr/bin/env bash
# Session 7, call 5: validation of the wgmma kernel as selected: its compile checks on NVRTC 13, the whole GPU suite,
# verify, and compute-sanitizer on verify --quick (which takes the wgmma kernel at 17+ rows).
set -uo pipefail
B=.bundle
echo "== wgmma compile checks"
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelConfigTests > $OUT/wcompile.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/wcompile.txt | head -30; tail -1 $OUT/wcompile.txt
bash scripts/gpu/validate.sh
