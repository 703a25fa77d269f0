#!/usr/bin/env bash
# Session 19, call 1, H100: the streamed GEMMs' tails. Normed epilogues find 1/rms before the main loop (its L2 round trip
# beside the first activations' instead of after the loop); the cluster reduction loads up to 16 partials at once (both
# ranks of a 2-CTA cluster of 8-warp CTAs, gate and up together, two units per thread where a CTA has more units than
# threads). Whole suite + verify + sanitizers; e2e batch 1 / 16 against the previous commit (b57d025, cli-old),
# alternating, two rounds; batch-16 variants: 16-row 4-warp launches through a 3-stage shared ring at 3 CTAs per SM
# (never measured since the commit groups were split, step 131), 2 chunks per CTA; the kernel timeline with the new
# per-CTA stamps (last warp's loop, cluster barrier).
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
e2e() { # label, cli, batches, env...
  local label=$1 cli=$2 batches=$3; shift 3
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch $batches > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -aiE 'error|exception' /tmp/e2e-$label.txt | head -2)"
}
for i in 1 2; do e2e old$i marlin-old 1,16; e2e new$i marlin 1,16; done
for i in 1 2; do
  e2e s16cap3-$i marlin 16 MARLINSHARP_STREAM_RINGS=4,3,3,2,3,2 MARLINSHARP_STREAM_CAP=3
  e2e s16a3cap3-$i marlin 16 MARLINSHARP_STREAM_RINGS=4,3,3,2,3,3 MARLINSHARP_STREAM_CAP=3
  e2e c2-$i marlin 16 MARLINSHARP_STREAM_CHUNKS=2
done
mkdir -p /tmp/tl
MARLINSHARP_DEBUG_TIMELINE=/tmp/tl MARLINSHARP_CACHE_DIR=/tmp/kc-tl timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > /tmp/tl.txt 2>&1
python3 scripts/gpu/analysis/timeline.py /tmp/tl/timeline-int4-b1.csv /tmp/tl/timeline-int4-b16.csv
gzip -c /tmp/tl/timeline-int4-b1.csv > $OUT/timeline-int4-b1-h100-session19-c1.csv.gz
gzip -c /tmp/tl/timeline-int4-b16.csv > $OUT/timeline-int4-b16-h100-session19-c1.csv.gz
