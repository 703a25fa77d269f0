#!/usr/bin/env bash
# (Record of what ran; the experimental switches it uses were removed after the measurement, docs/NOTES.md session 6.)
# Session 6, call 1: fused decode GEMMs with shared-memory stage rings, so that consecutive kernels can be resident
# together and the next one's weights are requested before griddepcontrol.wait (MARLINSHARP_FUSED_TUNE=W,D,W,D:
# warps and ring depth on narrow layers (o, down), then on wide ones (qkv, gate/up)).
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
for tune in 8,0,4,0 8,16,4,0 8,16,4,16 8,32,4,16 8,16,4,32 4,32,4,32 8,32,4,32 8,0,4,0; do
  MARLINSHARP_FUSED_TUNE=$tune timeout 100 $B/marlin bench e2e --shape llama2-7b --batch 1,2 > $OUT/e2e-$tune.txt 2>&1
  grep -aE "^ +(1|2) " $OUT/e2e-$tune.txt | sed "s/^/tune $tune /"
  grep -aiE "error|exception" $OUT/e2e-$tune.txt | head -3
done
