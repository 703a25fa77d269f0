#!/usr/bin/env bash
set -uo pipefail
B=.bundle
echo "== verify"; timeout 120 $B/marlin verify --seed 5 2>&1 | tail -1
echo "== kernel GPU tests"; timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.MarlinGemmGpuTests > $OUT/gputests.txt 2>&1; grep -aE "\[FAIL\]|passed, " $OUT/gputests.txt | head -10
echo "== bench"; timeout 120 $B/marlin bench gemm --shape peak --m 1,16 --layers llama2-7b llama2-70b --json $OUT/bench.json 2>&1 | tail -20
for cfg in 1,256,128,3,2 1,256,128,3,2,0,0,1; do
  echo "== ncu stalls $cfg"
  timeout 120 ncu --clock-control none --kernel-name marlin_gemm --launch-skip 8 --launch-count 1 \
    --metrics "regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__issue_active.avg.per_cycle_active,smsp__warps_active.avg.per_cycle_active,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__inst_executed.sum" \
    $B/marlin bench gemm --shape peak --m 16 --config $cfg > $OUT/ncu_${cfg//,/_}.txt 2>&1
  grep -aE "stalled|issue_active|warps_active|dram__|inst_executed" $OUT/ncu_${cfg//,/_}.txt | awk '$NF+0 > 0.05 || /issue_active|warps_active|dram|inst_exec/' | sed 's/smsp__average_warps_issue_stalled_//; s/_per_issue_active.ratio//' | head -30
done
