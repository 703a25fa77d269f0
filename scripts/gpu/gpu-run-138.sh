#!/usr/bin/env bash
# Session 13, call 3, H100: what the decode chain's kernels hold on an SM (bench e2e --profile now lists registers, shared
# memory, CTAs per SM and grids), then e2e batch 1 / 16 with 4-warp streamed launches compiled for four CTAs per SM
# (MARLIN_DEBUG_MIN_CTAS_4W=4: the grids stay planned for three, so a CTA of the next kernel fits beside them) against the
# default, twice.
set -uo pipefail
B=.bundle
timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/profile.txt 2>&1
grep -a "kernels:" $OUT/profile.txt; grep -aE "^ +[0-9]+ " $OUT/profile.txt | awk '{print "  ", $1, $2, $5, $8}'
for round in 1 2; do
  for mode in four default; do
    unset MARLINSHARP_NVRTC_EXTRA
    [[ $mode == four ]] && export MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_MIN_CTAS_4W=4"
    timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$mode-$round.txt 2>&1
    echo "round $round $mode:"; grep -aE "^ +[0-9]+ " $OUT/e2e-$mode-$round.txt | awk '{print "  ", $1, $2, $5, $8}'; grep -a "^marlin:" $OUT/e2e-$mode-$round.txt
  done
done
unset MARLINSHARP_NVRTC_EXTRA
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_MIN_CTAS_4W=4" timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile --output 8 > $OUT/profile-four.txt 2>&1
grep -a "kernels:" $OUT/profile-four.txt
