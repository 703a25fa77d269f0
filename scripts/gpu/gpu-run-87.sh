#!/usr/bin/env bash
# Session 8, call 8: the wgmma kernel at N = 16 (m64n16k16) for 9..16 rows: correctness (tuning variants against float64),
# then the peak shape and the Llama-2 layer sets against the selected kernels.
set -uo pipefail
B=.bundle
timeout 150 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -30; grep -a "Total:" $OUT/tests1.txt
for c in default wgmma,16,128,3,2 wgmma,16,128,4,2 wgmma,16,128,5,2 wgmma,16,128,4,1 wgmma,16,128,6,1; do
  echo "== peak $c"
  extra=(); [[ $c != default ]] && extra=(--config $c)
  timeout 60 $B/marlin bench gemm --shape peak --m 12,16 "${extra[@]}" > $OUT/p.txt 2>&1
  grep -aE "^peak|marlin:" $OUT/p.txt | cut -c1-150
done
for c in default wgmma,16,128,4,2 wgmma,16,128,4,1; do
  echo "== layers $c"
  extra=(); [[ $c != default ]] && extra=(--config $c)
  timeout 60 $B/marlin bench gemm --layers llama2-7b llama2-70b --layers-m 16 "${extra[@]}" > $OUT/l.txt 2>&1
  grep -aE "^llama" $OUT/l.txt | awk '{print $2, $5, $6, $7}' | paste -sd' '
done
