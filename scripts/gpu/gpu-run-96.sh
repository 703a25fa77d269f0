#!/usr/bin/env bash
# Session 10, call 1: fused GEMMs warm the next layer's weights in L2 (cp.async.bulk.prefetch.L2 after the main loop).
# GPU tests of the fused epilogues (warm-up changes no bit) and the engine; e2e llama2-7b with budgets of 0 (off), 8, 24
# and 48 MB, and with the warm-up issued at the kernel's start, two rounds.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 240 $B/run-tests -class MarlinSharp.Tests.Kernels.FusedEpilogueGpuTests -class MarlinSharp.Tests.Engine.GraphDecodeGpuTests -class MarlinSharp.Tests.Engine.ModelGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -40; grep -a "Total:" $OUT/tests1.txt
for round in 1 2; do
  for v in 0 8 24 48 early24; do
    echo "== e2e warm $v round $round"
    mb=${v#early}; extra=""; [[ $v == early* ]] && extra="-DMARLIN_WARM_EARLY=1"
    MARLINSHARP_WARM_MB=$mb MARLINSHARP_NVRTC_EXTRA="$extra" timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,8,16 > $OUT/e2e.txt 2>&1
    grep -aE "^ +[0-9]+ " $OUT/e2e.txt | awk '{print $1, $2, $5, $8}' | paste -sd' '
  done
done
