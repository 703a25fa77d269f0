#!/usr/bin/env bash
# Session 10, call 7: FP32 group scales on by default in the wgmma kernel (up to 64 rows). Compile checks of every
# selectable wide variant (no serialised wgmma, no spills), wide and dense kernel GPU tests, verify; then where the
# wgmma N=16 kernel now stands against the selection: forced on the peak shape at 1..8 rows and on the 7B / 70B layers
# at 8 and 16 rows; and FP32 scales at 128 rows too (MARLIN_FP32_SCALES=2) on the peak shape.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 300 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelConfigTests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests > $OUT/tests1.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests1.txt | head -40; grep -a "Total:" $OUT/tests1.txt
timeout 200 $B/marlin verify 2>&1 | tail -1
for cfg in default wgmma,16,128,4,2; do
  echo "== $cfg"
  args=""; [[ $cfg != default ]] && args="--config $cfg"
  timeout 150 $B/marlin bench gemm --shape peak --m 1,2,4,8 --layers llama2-7b llama2-70b --layers-m 8,16 $args > $OUT/g.txt 2>&1
  grep -aE "^(peak|llama2)" $OUT/g.txt | awk '{ if ($1 == "peak") print $4, $5, $6, $7, $NF; else print $1, $2, $3, $4, $5, $6, $NF }'
done
for v in 1 2; do
  echo "== FP32_SCALES=$v"
  MARLINSHARP_NVRTC_EXTRA="-DMARLIN_FP32_SCALES=$v" timeout 150 $B/marlin bench gemm --shape peak --m 128,256,1024 > $OUT/g2.txt 2>&1
  grep -aE "^peak" $OUT/g2.txt | awk '{print $4, $5, $6, $7, $NF}'
done
