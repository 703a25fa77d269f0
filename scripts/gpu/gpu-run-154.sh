#!/usr/bin/env bash
# Session 15, call 1, H100: what the FP16 step's own kernels (norms, rope+append, attention, SwiGLU) cost inside its
# CUDA graph, next to the cuBLAS GEMMs (MARLINSHARP_DEBUG_SKIP_OPS, timing only), and rope fused into attention for
# FP16 (MARLINSHARP_DEBUG_FP16_FUSED_ROPE). Two rounds of the default for spread. (that switch is removed since; see NOTES step 111).
set -uo pipefail
B=.bundle
run() {  # label, env...
  local label=$1; shift
  env "$@" timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$label.txt 2>&1
  echo "== $label"; grep -aE "^ +[0-9]+ " $OUT/e2e-$label.txt | awk '{print "  ", $1, $2, $5, $8}'
  grep -a 'floor' $OUT/e2e-$label.txt | sed 's/.*= //'
}
run base A=1
run skipnorm MARLINSHARP_DEBUG_SKIP_OPS=norm
run skiprope MARLINSHARP_DEBUG_SKIP_OPS=rope
run skipattn MARLINSHARP_DEBUG_SKIP_OPS=attention
run skipswiglu MARLINSHARP_DEBUG_SKIP_OPS=swiglu
run gemmsonly MARLINSHARP_DEBUG_SKIP_OPS=norm,attention,swiglu
run fp16fusedrope MARLINSHARP_DEBUG_FP16_FUSED_ROPE=1
run base2 A=1
