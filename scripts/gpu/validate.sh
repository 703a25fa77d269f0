#!/usr/bin/env bash
# The correctness half of a GPU call, for reuse: every test except the CI-only compile checks, the verify sweep, and
# compute-sanitizer memcheck / racecheck / synccheck on `verify --quick`. Run from the repository root with the
# portable bundle in ${BUNDLE:-.bundle}; the whole test log goes to $OUT/alltests.txt.
set -uo pipefail
B=${BUNDLE:-.bundle}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
echo "== all tests (compile checks are CI's)"
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/alltests.txt | head -30; tail -1 $OUT/alltests.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
echo "== memcheck / racecheck / synccheck"
for tool in memcheck racecheck synccheck; do
  MARLINSHARP_CACHE_DIR=/tmp/kc2 timeout 150 compute-sanitizer --tool $tool --print-limit 10 $B/marlin verify --quick 2>&1 | tail -1
done
