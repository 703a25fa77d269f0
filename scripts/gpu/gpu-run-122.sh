#!/usr/bin/env bash
# Session 11, call 8: is the 16-row kernel power-capped? ncu (call 7) saw 1.67 GHz SM clock for the kernel as it is,
# 1.80 compute only, 1.94 copies only. Here: SM clock, instantaneous power and throttle reasons sampled every 20 ms
# while the bench repeats one configuration (INT4 and cuBLAS alternate inside each bench; samples above 300 W only).
set -uo pipefail
B=.bundle
export MARLINSHARP_CACHE_DIR=/tmp/kc-pw
for v in "" "-DMARLIN_DEBUG_SKIP_B_LOADS=1 -DMARLIN_DEBUG_SKIP_A_LOADS=1" "-DMARLIN_DEBUG_SKIP_COMPUTE=1"; do
  export MARLINSHARP_NVRTC_EXTRA="$v"
  timeout 60 $B/marlin bench gemm --shape peak --m 16 > /dev/null 2>&1
  nvidia-smi --query-gpu=clocks.sm,power.draw.instant,clocks_throttle_reasons.active --format=csv,noheader,nounits -lms 20 > $OUT/smi.txt 2>&1 &
  SMI=$!
  timeout 100 $B/marlin bench gemm --shape peak --m 16,16,16,16,16,16,16,16 > $OUT/g.txt 2>&1
  kill $SMI; wait $SMI 2>/dev/null
  echo "[$v] $(grep -aE '^peak' $OUT/g.txt | awk '{print $6}' | paste -sd' ')"
  awk -F', ' '$2 > 300 { n++; c[$1]++; r[$3]++; p += $2 } END { printf "  %d busy samples, mean power %.0f W\n", n, p / n; for (k in c) printf "  clock %s MHz: %d\n", k, c[k]; for (k in r) printf "  reasons %s: %d\n", k, r[k] }' $OUT/smi.txt | sort -k2 -n | tail -14
done
