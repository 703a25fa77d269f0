#!/usr/bin/env bash
# Session 10, call 11: what bounds the wgmma N=16 kernel now that grouped scales go to FP32 sums (ncu on the peak shape at
# 16 rows and on 4096x12288 at 16 rows; clocks as found).
set -uo pipefail
B=.bundle
M="regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__issue_active.avg.per_cycle_active,smsp__warps_active.avg.per_cycle_active,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__inst_executed.sum,sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active,regex:sm__inst_executed_pipe_(alu|fma|fmaheavy|fma_type_fp16|lsu|uniform)\.avg\.pct_of_peak_sustained_active,lts__throughput.avg.pct_of_peak_sustained_elapsed,gpu__time_duration.sum,launch__registers_per_thread"
for shape in peak 4096x12288; do
  echo "== ncu wgmma16 $shape"
  timeout 150 ncu --clock-control none --kernel-name marlin_wgmma --launch-skip 20 --launch-count 1 --metrics "$M" $B/marlin bench gemm --shape $shape --m 16 > $OUT/ncu.txt 2>&1
  grep -aE "^\s+(smsp__|sm__|dram__|lts__|gpu__|launch__)" $OUT/ncu.txt | sed 's/smsp__average_warps_issue_stalled_//; s/_per_issue_active.ratio//' | awk '{v=$NF; if (v+0 > 0.05 || /time|regist|issue_active|warps_active/) print $1, $(NF-1), v}'
done
