#!/usr/bin/env bash
# Session 18, call 1, H100: shared-memory weight ring in marlin_stream.cu (MARLIN_W_STAGES, forced for every streamed
# launch by MARLINSHARP_STREAM_WSTAGES / MARLINSHARP_STREAM_ARING). e2e batch 1 and 16, register ring against 3 and 4
# stages with activations 1 or 2 blocks ahead, alternating, two rounds; then the stream kernel and engine tests and the
# NVRTC 13 compile checks with 3 stages forced.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
e2e() { # label, env...
  local label=$1; shift
  env "$@" timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -aiE 'error|exception' /tmp/e2e-$label.txt | head -2)"
}
for i in 1 2; do
  e2e reg$i
  e2e s3a2-$i MARLINSHARP_STREAM_WSTAGES=3
  e2e s3a3-$i MARLINSHARP_STREAM_WSTAGES=3 MARLINSHARP_STREAM_ARING=3
  e2e s4a3-$i MARLINSHARP_STREAM_WSTAGES=4 MARLINSHARP_STREAM_ARING=3
done
cp /tmp/e2e-s3a2-1.txt $OUT/
echo "== stream kernel + engine tests, 3 stages"
MARLINSHARP_STREAM_WSTAGES=3 timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelTests -namespace MarlinSharp.Tests.Engine \
  -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests-s3.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/tests-s3.txt | head -30; tail -1 $OUT/tests-s3.txt
echo "== compile checks, 3 stages"
MARLINSHARP_STREAM_WSTAGES=3 timeout 150 $B/run-tests -class MarlinSharp.Tests.Kernels.KernelCompileTests -class MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/compile-s3.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/compile-s3.txt | head -20; tail -1 $OUT/compile-s3.txt
