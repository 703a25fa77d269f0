#!/usr/bin/env bash
# Session 19, call 3, H100. Call 2 measured a cluster barrier at ~0.45 us and a DSMEM load round trip at ~0.55 us
# (scripts/gpu/micro/cluster_reduce.cu), and the streamed GEMMs paid two barriers and a load round trip per launch. Now
# every CTA stores its partial of each 32-unit key straight into the reducing CTA's shared memory, one cluster barrier,
# then each CTA reduces its own keys locally and exits. Whole suite, verify, sanitizers; e2e batch 1 / 16 against the
# previous commit (dc48763, cli-old), alternating, three rounds; the timeline.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
e2e() { # label, cli, batches, env...
  local label=$1 cli=$2 batches=$3; shift 3
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch $batches > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -aiE 'error|exception' /tmp/e2e-$label.txt | head -2)"
}
for i in 1 2 3; do e2e old$i marlin-old 1,16; e2e new$i marlin 1,16; done
mkdir -p /tmp/tl
MARLINSHARP_DEBUG_TIMELINE=/tmp/tl MARLINSHARP_CACHE_DIR=/tmp/kc-tl timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > /tmp/tl.txt 2>&1
python3 scripts/gpu/analysis/timeline.py /tmp/tl/timeline-int4-b1.csv /tmp/tl/timeline-int4-b16.csv
gzip -c /tmp/tl/timeline-int4-b1.csv > $OUT/timeline-int4-b1-h100-session19-c3.csv.gz
gzip -c /tmp/tl/timeline-int4-b16.csv > $OUT/timeline-int4-b16-h100-session19-c3.csv.gz
