#!/usr/bin/env bash
# Session 11, call 7: what couples copies and compute at 16 rows (call 5: 0.162 / 0.157 ms alone, 0.203 together; call 6:
# deeper prefetch does not help)? SM clock and power while each variant runs (nvidia-smi), and ncu: SM frequency, DRAM
# throughput, issue and tensor activity, for the kernel as it is, compute only and copies only.
set -uo pipefail
B=.bundle
export MARLINSHARP_CACHE_DIR=/tmp/kc-clk
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm,clocks.max.mem --format=csv
for v in "" "-DMARLIN_DEBUG_SKIP_B_LOADS=1 -DMARLIN_DEBUG_SKIP_A_LOADS=1" "-DMARLIN_DEBUG_SKIP_COMPUTE=1"; do
  export MARLINSHARP_NVRTC_EXTRA="$v"
  timeout 60 $B/marlin bench gemm --shape peak --m 16 > /dev/null 2>&1   # compile
  nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active --format=csv,noheader -lms 50 > $OUT/smi.txt 2>&1 &
  SMI=$!
  timeout 60 $B/marlin bench gemm --shape peak --m 16,16,16,16 > $OUT/g.txt 2>&1
  kill $SMI; wait $SMI 2>/dev/null
  echo "[$v] $(grep -aE '^peak' $OUT/g.txt | awk '{print $6}' | paste -sd' ')"
  sort $OUT/smi.txt | uniq -c | sort -rn | head -6
  timeout 200 ncu --clock-control none --kernel-name marlin_wgmma --launch-skip 20 --launch-count 1 \
    --metrics gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second,dram__cycles_elapsed.avg.per_second,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,lts__t_sector_hit_rate.pct,sm__warps_active.avg.pct_of_peak_sustained_active \
    $B/marlin bench gemm --shape peak --m 16 2>&1 | grep -aE "^ +(gpu__|sm__|smsp__|dram__|lts__)" | sed -e 's/^ */  /'
done
