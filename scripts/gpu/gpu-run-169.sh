#!/usr/bin/env bash
# Session 16, calls 9-10, H100: FP16 GEMMs through the cuBLAS algorithm that is fastest inside the decode step's chain
# (Fp16GemmTuner: GemmEx and every cuBLASLt heuristic candidate timed in graphs of "small kernel, GEMM" pairs at model
# construction). GPU tests (every cuBLASLt candidate against float64; the engine); e2e tuned against
# MARLINSHARP_NO_GEMM_TUNING=1, alternating; the choices (--profile).
set -uo pipefail
B=.bundle
timeout 60 $B/run-tests -class MarlinSharp.Tests.Cuda.GpuTests > $OUT/tests-cuda.txt 2>&1; tail -1 $OUT/tests-cuda.txt
timeout 360 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A10 $OUT/tests-cuda.txt | head -20
grep -aE "\[FAIL\]" -A10 $OUT/tests.txt | head -40; tail -1 $OUT/tests.txt
e2e() { # label, env...
  local label=$1; shift
  env "$@" timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' $OUT/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -a floor $OUT/e2e-$label.txt | sed 's/.*is //')"
}
for i in 1 2; do e2e tuned$i; e2e gemmex$i MARLINSHARP_NO_GEMM_TUNING=1; done
timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/e2e-profile.txt 2>&1
tr '\r' '\n' < $OUT/e2e-profile.txt | grep -a "rows:" | sort -u | head -20
