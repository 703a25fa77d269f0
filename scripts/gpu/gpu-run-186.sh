#!/usr/bin/env bash
# Session 19, call 2, H100. Call 1 put the GEMM tails at batch 16 at 0.55-0.78 us from a cluster's last main loop to its
# barrier and ~2 us from there to its last exit. (1) scripts/gpu/micro/cluster_reduce.cu: what a cluster barrier, DSMEM
# reads and a remote mbarrier round trip cost here. (2) The reduction now deals units to the CTAs of a cluster in warp
# groups, interleaved (CTA 0 alone took every unit of a 16-row 8-warp launch), and CTAs with several k runs per chunk sum
# their own warps first (MARLIN_REDUCE_PRESUM; =0 through MARLINSHARP_NVRTC_EXTRA for the A/B). Whole suite and verify;
# e2e batch 1 / 16 against the previous commit (b57d025, cli-old) and against PRESUM=0, alternating, two rounds; the
# timeline with the reduction's end stamped.
set -uo pipefail
B=.bundle
nvcc -O2 -arch=sm_90 scripts/gpu/micro/cluster_reduce.cu -o /tmp/cluster_reduce 2>&1 | grep -v "^$" | head -20
timeout 60 /tmp/cluster_reduce
echo "== all tests (compile checks are CI's)"
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/alltests.txt | head -30; tail -1 $OUT/alltests.txt
echo "== verify"; timeout 120 $B/marlin verify 2>&1 | tail -1
e2e() { # label, cli, batches, env...
  local label=$1 cli=$2 batches=$3; shift 3
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch $batches > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -aiE 'error|exception' /tmp/e2e-$label.txt | head -2)"
}
for i in 1 2; do
  e2e old$i marlin-old 1,16
  e2e new$i marlin 1,16
  e2e nopresum$i marlin 1,16 MARLINSHARP_NVRTC_EXTRA=-DMARLIN_REDUCE_PRESUM=0 MARLINSHARP_CACHE_DIR=/tmp/kc-np
done
mkdir -p /tmp/tl
MARLINSHARP_DEBUG_TIMELINE=/tmp/tl MARLINSHARP_CACHE_DIR=/tmp/kc-tl timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > /tmp/tl.txt 2>&1
python3 scripts/gpu/analysis/timeline.py /tmp/tl/timeline-int4-b1.csv /tmp/tl/timeline-int4-b16.csv
gzip -c /tmp/tl/timeline-int4-b1.csv > $OUT/timeline-int4-b1-h100-session19-c2.csv.gz
gzip -c /tmp/tl/timeline-int4-b16.csv > $OUT/timeline-int4-b16-h100-session19-c2.csv.gz
