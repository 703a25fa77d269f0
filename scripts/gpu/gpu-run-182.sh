#!/usr/bin/env bash
# Session 18, call 5, H100: weights and activations in commit groups of their own (so a 3-stage weight ring keeps two
# blocks in flight even with activations one block ahead), against the previous commit (cli-old, one group per block);
# ring variants through MARLINSHARP_STREAM_RINGS ("S8,A8,S4,A4,S16,A16") and MARLINSHARP_STREAM_CAP. e2e batch 1 and 16,
# alternating, two rounds; then the stream, fused-epilogue, CUDA and engine tests.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
e2e() { # label, cli, env...
  local label=$1 cli=$2; shift 2
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -aiE 'error|exception' /tmp/e2e-$label.txt | head -2)"
}
for i in 1 2; do
  e2e old$i marlin-old
  e2e new$i marlin
  e2e w4s4-$i marlin MARLINSHARP_STREAM_RINGS=3,3,4,2,0,2
  e2e w8a2-$i marlin MARLINSHARP_STREAM_RINGS=3,2,3,2,0,2
  e2e w8s4-$i marlin MARLINSHARP_STREAM_RINGS=4,3,3,2,0,2
  e2e m16cap3-$i marlin MARLINSHARP_STREAM_RINGS=3,3,3,2,3,2 MARLINSHARP_STREAM_CAP=3
  e2e m16auto-$i marlin MARLINSHARP_STREAM_RINGS=3,3,3,2,3,2
done
echo "== tests"
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelTests -class MarlinSharp.Tests.Kernels.FusedEpilogueTests -class MarlinSharp.Tests.Cuda.GpuTests > $OUT/tests-kernels.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests-kernels.txt | head -30; tail -1 $OUT/tests-kernels.txt
timeout 200 $B/run-tests -namespace MarlinSharp.Tests.Engine -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/tests-engine.txt 2>&1
grep -aE "\[FAIL\]" -A8 $OUT/tests-engine.txt | head -30; tail -1 $OUT/tests-engine.txt
