#!/usr/bin/env bash
# Session 18, call 2, H100: why the shared-memory weight ring (3 stages) is slower at batch 1 and a little faster at
# batch 16: kernel timelines of one INT4 decode step, register ring against 3 stages with activations 1 or 2 blocks ahead
# (medians per launch of the middle layers); then the stream kernel and engine tests with 3 stages forced.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
tl() { # label, env...
  local label=$1; shift
  mkdir -p /tmp/tl-$label
  env "$@" MARLINSHARP_DEBUG_TIMELINE=/tmp/tl-$label MARLINSHARP_CACHE_DIR=/tmp/kc-tl timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > /tmp/tl-$label.txt 2>&1
  echo "== $label: $(grep -aE '^ +[0-9]+ ' /tmp/tl-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}')"
  python3 scripts/gpu/analysis/timeline.py /tmp/tl-$label/timeline-int4-b1.csv /tmp/tl-$label/timeline-int4-b16.csv
}
tl reg
tl s3a2 MARLINSHARP_STREAM_WSTAGES=3
tl s3a3 MARLINSHARP_STREAM_WSTAGES=3 MARLINSHARP_STREAM_ARING=3
gzip -c /tmp/tl-s3a3/timeline-int4-b1.csv > $OUT/timeline-int4-b1-s3a3.csv.gz
echo "== stream kernel tests, 3 stages"
MARLINSHARP_STREAM_WSTAGES=3 timeout 150 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelTests > $OUT/tests-stream-s3.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/tests-stream-s3.txt | head -20; tail -1 $OUT/tests-stream-s3.txt
echo "== engine tests, 3 stages"
MARLINSHARP_STREAM_WSTAGES=3 timeout 200 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests-engine-s3.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/tests-engine-s3.txt | head -20; tail -1 $OUT/tests-engine-s3.txt
