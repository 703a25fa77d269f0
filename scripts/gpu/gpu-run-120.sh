#!/usr/bin/env bash
# Session 11, call 6: call 5 showed poor overlap at 16 rows (copies alone 0.162 ms, compute alone 0.157, both 0.203).
# Early refill (MARLIN_EARLY_REFILL): with FP32 group sums every tile drains its wgmmas, so a stage is refilled one tile
# after it was read instead of two: stages - 1 tiles in flight. Wide tests and verify, then A/B 0 / 1 with 3..5 stages
# at 16 and 32 rows (two CTAs) and 64 rows (one CTA); peak shape and the 7B / 70B sets at 16 rows, twice.
set -uo pipefail
B=.bundle
export MARLINSHARP_CACHE_DIR=/tmp/kc-er
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.WideKernelGpuTests -class MarlinSharp.Tests.Kernels.WideKernelConfigTests > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A12 $OUT/tests.txt | head -30; grep -a "Total:" $OUT/tests.txt
timeout 200 $B/marlin verify > $OUT/verify.txt 2>&1; tail -1 $OUT/verify.txt
for round in 1 2; do
  for v in 0 1; do
    for st in 3 4 5; do
      MARLINSHARP_NVRTC_EXTRA="-DMARLIN_EARLY_REFILL=$v" timeout 150 $B/marlin bench gemm --shape peak --m 16 --config wgmma,16,128,$st,2 > $OUT/g.txt 2>&1
      a=$(grep -aE '^peak' $OUT/g.txt | awk '{ print $6 }')
      MARLINSHARP_NVRTC_EXTRA="-DMARLIN_EARLY_REFILL=$v" timeout 150 $B/marlin bench gemm --shape peak --m 32 --config wgmma,32,128,$st,2 > $OUT/g.txt 2>&1
      b=$(grep -aE '^peak' $OUT/g.txt | awk '{ print $6 }')
      MARLINSHARP_NVRTC_EXTRA="-DMARLIN_EARLY_REFILL=$v" timeout 150 $B/marlin bench gemm --shape peak --m 64 --config wgmma,64,128,$st > $OUT/g.txt 2>&1
      c=$(grep -aE '^peak' $OUT/g.txt | awk '{ print $6 }')
      echo "refill=$v stages=$st round $round: m16 $a m32 $b m64 $c"
    done
    MARLINSHARP_NVRTC_EXTRA="-DMARLIN_EARLY_REFILL=$v" timeout 150 $B/marlin bench gemm --shape peak --m 12,16,32,64 --layers llama2-7b llama2-70b --layers-m 16 > $OUT/g.txt 2>&1
    echo "refill=$v selected round $round: $(grep -aE '^(peak|llama2-7b +16|llama2-70b +16)' $OUT/g.txt | awk '{ if ($1 == "peak") print $4, $5, $6; else print $1, $3, $4 }' | paste -sd' ')"
  done
done
