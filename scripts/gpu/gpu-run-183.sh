#!/usr/bin/env bash
# Session 18, call 6, H100: 8-warp CTAs of up to 8 rows now take 4 weight stages (call 5: batch 1 1.722 / 1.709 ms against
# 1.743 / 1.728). Batch 16: the 4-warp 16-row launches (register ring) with activations 2 or 3 blocks ahead instead of 1
# (MARLINSHARP_STREAM_RINGS), alternating, two rounds; then the kernel timeline of the default step at batch 16.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
e2e() { # label, env...
  local label=$1; shift
  env "$@" timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -aiE 'error|exception' /tmp/e2e-$label.txt | head -2)"
}
for i in 1 2; do
  e2e new$i
  e2e m16a3-$i MARLINSHARP_STREAM_RINGS=4,3,3,2,0,3
  e2e m16a4-$i MARLINSHARP_STREAM_RINGS=4,3,3,2,0,4
  e2e m16s3a3-$i MARLINSHARP_STREAM_RINGS=4,3,3,2,3,3
done
mkdir -p /tmp/tl
MARLINSHARP_DEBUG_TIMELINE=/tmp/tl MARLINSHARP_CACHE_DIR=/tmp/kc-tl timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > /tmp/tl.txt 2>&1
python3 scripts/gpu/analysis/timeline.py /tmp/tl/timeline-int4-b1.csv /tmp/tl/timeline-int4-b16.csv
gzip -c /tmp/tl/timeline-int4-b1.csv > $OUT/timeline-int4-b1-h100-session18.csv.gz
gzip -c /tmp/tl/timeline-int4-b16.csv > $OUT/timeline-int4-b16-h100-session18.csv.gz
