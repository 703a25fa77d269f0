#!/usr/bin/env bash
# Session 13, call 4, H100: 8-warp streamed launches of up to 8 rows compiled for two CTAs per SM
# (MARLIN_DEBUG_MIN_CTAS_8W=2: o and down then plan four k parts instead of two, so each warp streams one block and all of
# o's weights are requested before its wait) against the default, e2e batch 1 / 4 / 8, three rounds.
set -uo pipefail
B=.bundle
MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_MIN_CTAS_8W=2" timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1 --profile --output 8 > $OUT/profile-two.txt 2>&1
grep -a "kernels:" $OUT/profile-two.txt
for round in 1 2 3; do
  for mode in two default; do
    unset MARLINSHARP_NVRTC_EXTRA
    [[ $mode == two ]] && export MARLINSHARP_NVRTC_EXTRA="-DMARLIN_DEBUG_MIN_CTAS_8W=2"
    timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,4,8 > $OUT/e2e-$mode-$round.txt 2>&1
    echo "round $round $mode:"; grep -aE "^ +[0-9]+ " $OUT/e2e-$mode-$round.txt | awk '{print "  ", $1, $2, $5, $8}'; grep -a "^marlin:" $OUT/e2e-$mode-$round.txt
  done
done
