#!/usr/bin/env bash
# Session 18, call 3, H100: the shared weight ring per warp count. 8-warp launches (k-split clusters) gained with it in
# call 2; 4-warp launches lost because their larger shared memory let 4 CTAs stack on one SM. e2e batch 1 and 16,
# alternating, two rounds: register rings; 3 stages on 8-warp launches (activations 1 or 2 blocks ahead); plus 3 stages
# on 4-warp launches capped by shared memory to the fewest CTAs per SM that hold the grid (auto) or to 3. Then the
# timeline of the all-staged auto-capped step.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
e2e() { # label, env...
  local label=$1; shift
  env "$@" timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -aiE 'error|exception' /tmp/e2e-$label.txt | head -2)"
}
S8="MARLINSHARP_STREAM_WSTAGES8=3 MARLINSHARP_STREAM_ARING8=3"
S4="MARLINSHARP_STREAM_WSTAGES4=3 MARLINSHARP_STREAM_ARING4=3"
for i in 1 2; do
  e2e reg$i
  e2e e8a2-$i MARLINSHARP_STREAM_WSTAGES8=3
  e2e e8a3-$i $S8
  e2e all-auto-$i $S8 $S4 MARLINSHARP_STREAM_CAP4=auto
  e2e all-cap3-$i $S8 $S4 MARLINSHARP_STREAM_CAP4=3
  e2e all-auto-a2-$i $S8 MARLINSHARP_STREAM_WSTAGES4=3 MARLINSHARP_STREAM_CAP4=auto
done
mkdir -p /tmp/tl-auto
env $S8 $S4 MARLINSHARP_STREAM_CAP4=auto MARLINSHARP_DEBUG_TIMELINE=/tmp/tl-auto MARLINSHARP_CACHE_DIR=/tmp/kc-tl timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > /tmp/tl-auto.txt 2>&1
python3 scripts/gpu/analysis/timeline.py /tmp/tl-auto/timeline-int4-b1.csv /tmp/tl-auto/timeline-int4-b16.csv
gzip -c /tmp/tl-auto/timeline-int4-b1.csv > $OUT/timeline-int4-b1-auto.csv.gz
gzip -c /tmp/tl-auto/timeline-int4-b16.csv > $OUT/timeline-int4-b16-auto.csv.gz
