#!/usr/bin/env bash
# Session 17, call 1, H100: the code after session 16's last GPU call (tuner test, UseAlgorithm and
# DevelopmentOptions mends) through the whole suite, verify and sanitizers; then where the INT4 step stands:
# e2e batch 1 and 16 with --profile, and with the Marlin GEMMs compiled without their griddepcontrol.wait
# (MARLIN_DEBUG_NO_WAIT, wrong outputs, timing only) to bound what the waits cost inside the chain.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
grep -a "EachFp16GemmOfADecodeStepHasATimedAlgorithm" $OUT/alltests.txt | head -3
e2e() { # label, extra args / env
  local label=$1; shift
  env "$@" timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 $EXTRA > $OUT/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' $OUT/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -a floor $OUT/e2e-$label.txt | sed 's/.*is //')"
}
EXTRA=--profile e2e profile
grep -aE "^ *(INT4|FP16) batch (1|16)( kernels)?:|back to back|chained|^ +[a-z|]+ +[0-9]" $OUT/e2e-profile.txt | tr -d '\r' | head -80
EXTRA= e2e base1
EXTRA= e2e nowait MARLINSHARP_NVRTC_EXTRA=-DMARLIN_DEBUG_NO_WAIT=1 MARLINSHARP_CACHE_DIR=/tmp/kc-nowait
EXTRA= e2e base2
