#!/usr/bin/env bash
# (Record of what ran; the experimental switches it uses were removed after the measurement, docs/NOTES.md session 6.)
# Session 6, call 2: the streamed kernel with a shared ring filled by TMA bulk copies (lane 0 per warp, one mbarrier per
# slot). Correctness of every instantiation, isolated Llama-2-7B layers at m = 1, and the fused decode step with it.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 200 $B/run-tests -class MarlinSharp.Tests.Kernels.StreamKernelGpuTests > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A6 $OUT/tests.txt | head -24; tail -1 $OUT/tests.txt
echo "== layers m=1"
for c in stream,4 stream,4,16,1 stream,4,32,1 stream,8 stream,8,16,1 stream,8,32,1 stream,8,32 dense; do
  timeout 60 $B/marlin bench gemm --shape 4096x4096 --shape 11008x4096 --shape 4096x12288 --shape 4096x22016 --shape 8192x28672 --m 1 --config $c > $OUT/l.txt 2>&1
  grep -aE "^[0-9a-z]+ +[0-9]+x[0-9]+ " $OUT/l.txt | awk -v c="$c" '{printf "%-15s %-12s m=%-3s fp16 %s int4 %s %s\n", c, $2, $3, $4, $5, $6}'
  grep -aiE "error|exception" $OUT/l.txt | head -5
done
for tune in 8,0,4,0 8,32b,4,16b 8,32b,4,32b 8,16b,4,16b 8,32b,4,0 8,0,4,0; do
  MARLINSHARP_FUSED_TUNE=$tune timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1,2 > $OUT/e2e.txt 2>&1
  grep -aE "^ +(1|2) " $OUT/e2e.txt | sed "s/^/tune $tune /"
  grep -aiE "error|exception" $OUT/e2e.txt | head -3
done
