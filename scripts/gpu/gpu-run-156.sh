#!/usr/bin/env bash
# Session 15, call 3, H100: where step 112's FP16 gain went. Per-op profile (no graphs) of FP16 batch 1, previous CLI
# against this one; then, in graphs, the normed rope and SwiGLU kernels left out (timing only) against the previous
# CLI's rope and SwiGLU left out.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -class MarlinSharp.Tests.Engine.OpsGpuTests > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A15 $OUT/tests.txt | head -40; tail -1 $OUT/tests.txt
for cli in marlin-old marlin; do
  timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1 --profile > $OUT/prof-$cli.txt 2>&1
  echo "== profile $cli"; sed -n '/^FP16 batch 1: one/,/total/p' $OUT/prof-$cli.txt
done
for skip in rope swiglu rope,swiglu; do
  for cli in marlin-old marlin; do
    MARLINSHARP_DEBUG_SKIP_OPS=$skip timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$cli-$skip.txt 2>&1
    echo "== $cli skip $skip"; grep -aE "^ +[0-9]+ " $OUT/e2e-$cli-$skip.txt | awk '{print "  ", $1, $2, $5, $8}'
  done
done
