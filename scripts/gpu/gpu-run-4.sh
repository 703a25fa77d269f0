#!/usr/bin/env bash
# Profile one small-batch launch with Nsight Compute: scheduler, warp stalls, source-level stall hot spots.
set -uo pipefail
export MARLINSHARP_NVRTC_EXTRA="-lineinfo" MARLINSHARP_CACHE_DIR=/tmp/kc-lineinfo
timeout 300 ncu --clock-control none --kernel-name marlin_gemm --launch-skip 8 --launch-count 1 \
  --section SpeedOfLight --section SchedulerStats --section WarpStateStats --section Occupancy --section LaunchStats --section MemoryWorkloadAnalysis \
  --section SourceCounters --print-summary none \
  .bundle/marlin bench gemm --shape peak --m 1 --config 1,256,128,4,1 > $OUT/ncu.txt 2>&1
grep -vE "^==PROF==|^\s*$" $OUT/ncu.txt | grep -A400 "marlin_gemm" | head -230
