#!/usr/bin/env bash
# Session 17, call 4, H100: call 3's change with the cluster reduction of 8-warp CTAs as it was (one rank's eight warps
# per batch of loads; only CTAs with fewer warps per chunk batch several ranks), and a retry of cublasGemmEx's timing
# in the tuner (it failed once inside a capture in call 3's whole-suite run). Whole GPU suite; e2e against the previous
# commit, alternating; the kernel timeline of the new code.
set -uo pipefail
B=.bundle
timeout 300 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/alltests.txt | head -30; tail -1 $OUT/alltests.txt
e2e() { # label, cli, env...
  local label=$1 cli=$2; shift 2
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}')"
}
for i in 1 2 3; do e2e old$i marlin-old; e2e new$i marlin; done
MARLINSHARP_DEBUG_TIMELINE=$OUT MARLINSHARP_CACHE_DIR=/tmp/kc-tl timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/e2e-timeline.txt 2>&1
rm -f $OUT/timeline-fp16-*.csv
grep -aE "^ +[0-9]+ " $OUT/e2e-timeline.txt
