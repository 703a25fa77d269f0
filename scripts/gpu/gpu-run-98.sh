#!/usr/bin/env bash
# Session 10, call 3: what bounds 16 rows on the peak shape and the wide 7B layer (ncu, clocks as found): stalls, issue
# activity, tensor-pipe and DRAM utilisation of the wgmma N=16 kernel (selected), the streamed kernel with four chunks
# per CTA and a 3-deep ring (best forced streamed), and the dense kernel at m = 1.
set -uo pipefail
B=.bundle
M="regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__issue_active.avg.per_cycle_active,smsp__warps_active.avg.per_cycle_active,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__inst_executed.sum,regex:sm__pipe_tensor.*cycles_active.avg.pct_of_peak_sustained_active,regex:sm__inst_executed_pipe_.*\.avg\.pct_of_peak_sustained_active,lts__throughput.avg.pct_of_peak_sustained_elapsed,gpu__time_duration.sum,launch__registers_per_thread,launch__grid_size,launch__occupancy_limit_registers"
run() {  # name kernel shape m config
  echo "== ncu $1"
  args="--shape $3 --m $4"; [[ $5 != default ]] && args="$args --config $5"
  timeout 150 ncu --clock-control none --kernel-name $2 --launch-skip 20 --launch-count 1 --metrics "$M" $B/marlin bench gemm $args > $OUT/ncu_$1.txt 2>&1
  grep -aE "^\s+(smsp__|sm__|dram__|lts__|gpu__|launch__)" $OUT/ncu_$1.txt | sed 's/smsp__average_warps_issue_stalled_//; s/_per_issue_active.ratio//' | awk '{v=$NF; if (v+0 > 0.05 || /time|grid|regist|issue_active|warps_active/) print $1, $(NF-1), v}'
}
run wgmma16 marlin_wgmma peak 16 default
run stream16 marlin_stream_gemm peak 16 stream,4,3,4
run dense1 marlin_gemm peak 1 default
run wide16 marlin_wgmma 4096x22016 16 default
run widestream16 marlin_stream_gemm 4096x22016 16 stream,4,3,4
