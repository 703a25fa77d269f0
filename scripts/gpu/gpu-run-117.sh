#!/usr/bin/env bash
# Session 11, call 3: SASS and ncu of the 16-row wgmma kernel with subnormal weights (slow in calls 1-2 only when the
# zero-point wgmma and the subnormal fragments come together), against the magic-number kernel and debug mode 1.
set -uo pipefail
B=.bundle
for v in "0 0" "1 0" "1 1"; do
  set -- $v
  export MARLINSHARP_CACHE_DIR=/tmp/kc-sass-$1-$2
  rm -rf $MARLINSHARP_CACHE_DIR
  export MARLINSHARP_NVRTC_EXTRA="-DMARLIN_SUBNORMAL_WEIGHTS=$1 -DMARLIN_DEBUG_SN=$2"
  timeout 120 $B/marlin bench gemm --shape peak --m 16 > /dev/null 2>&1
  for f in $MARLINSHARP_CACHE_DIR/*.cubin; do
    if cuobjdump -sass $f 2>/dev/null | grep -q 'Function : marlin_wgmma'; then
      cuobjdump -sass $f > $OUT/sn$1-$2.sass 2>&1
      echo "sn=$1 dbg=$2: $(grep -c '^ */\*[0-9a-f]*\*/' $OUT/sn$1-$2.sass) instr, HGMMA $(grep -c HGMMA $OUT/sn$1-$2.sass), ARRIVE $(grep -c 'WARPGROUP.ARRIVE' $OUT/sn$1-$2.sass), DEPBAR $(grep -c 'WARPGROUP.DEPBAR' $OUT/sn$1-$2.sass), gsb $(grep -c 'gsb0' $OUT/sn$1-$2.sass)"
    fi
  done
  timeout 200 ncu --clock-control none --kernel-name marlin_wgmma --launch-skip 20 --launch-count 1 \
    --metrics gpu__time_duration.sum,sm__inst_executed.sum,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_tensor_op_hmma.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__average_warp_latency_issue_stalled_wait.ratio,smsp__average_warp_latency_issue_stalled_math_pipe_throttle.ratio,smsp__average_warp_latency_issue_stalled_barrier.ratio,smsp__average_warp_latency_issue_stalled_long_scoreboard.ratio,smsp__average_warp_latency_issue_stalled_short_scoreboard.ratio,smsp__average_warp_latency_issue_stalled_membar.ratio,smsp__average_warp_latency_issue_stalled_misc.ratio,smsp__average_warp_latency_issue_stalled_sleeping.ratio,smsp__average_warp_latency_issue_stalled_dispatch_stall.ratio,smsp__average_warp_latency_issue_stalled_no_instruction.ratio \
    $B/marlin bench gemm --shape peak --m 16 2>&1 | grep -aE "^ +(gpu__|sm__|smsp__)" > $OUT/ncu$1-$2.txt
  sed -e 's/^ */  /' $OUT/ncu$1-$2.txt
done
