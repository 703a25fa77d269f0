#!/usr/bin/env bash
# Session 17, call 3, H100. The timeline (call 2) showed, at batch 16, 5-6 us between the last main loop of the normed
# GEMMs and their exit: each warp summed its 4 rows' sums of squares one L2 round trip after another, and the 6-rank
# cluster reduction loaded rank by rank. Now every row's loads and eight ranks' partials go out together (bitwise the
# same sums). Whole GPU suite; e2e against the previous commit (alternating), and with the L2 prefetch switch
# (MARLIN_DEBUG_L2_AHEAD 1 and 2: each warp's weights asked of L2 one / two blocks beyond its register loads); then the
# timeline of the new code.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/alltests.txt | head -30; tail -1 $OUT/alltests.txt
e2e() { # label, cli, env...
  local label=$1 cli=$2; shift 2
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' $OUT/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}')"
}
for i in 1 2; do
  e2e old$i marlin-old
  e2e new$i marlin
  e2e ahead1-$i marlin MARLINSHARP_NVRTC_EXTRA=-DMARLIN_DEBUG_L2_AHEAD=1 MARLINSHARP_CACHE_DIR=/tmp/kc-a1
  e2e ahead2-$i marlin MARLINSHARP_NVRTC_EXTRA=-DMARLIN_DEBUG_L2_AHEAD=2 MARLINSHARP_CACHE_DIR=/tmp/kc-a2
done
mkdir -p $OUT/tl
MARLINSHARP_DEBUG_TIMELINE=$OUT/tl MARLINSHARP_CACHE_DIR=/tmp/kc-tl timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/e2e-timeline.txt 2>&1
rm -f $OUT/tl/timeline-fp16-*.csv
grep -aE "^ +[0-9]+ " $OUT/e2e-timeline.txt
