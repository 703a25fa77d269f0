#!/usr/bin/env bash
# Session 19, call 5, H100: why FP16 batch 1 took 5.57 ms in both full sweeps of call 4 (1.27x the floor) against
# 5.36-5.40 in every `--batch 1,16` run: the same CLI with the batch sizes in other orders and subsets.
set -uo pipefail
B=.bundle
run() { # label, batches, env...
  local label=$1 batches=$2; shift 2
  env "$@" timeout 200 $B/marlin bench e2e --shape llama2-7b --batch $batches > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -aE 'floor' /tmp/e2e-$label.txt | sed 's/.*token is //') $(grep -aiE 'error|exception' /tmp/e2e-$label.txt | head -2)"
}
run sweep 1,2,4,8,16,32,64
run b1-16 1,16
run b2-1 2,1
run b1-2 1,2
run b1-32 1,32
run b1-64 1,64
run sweep-notune 1,2,4,8,16,32,64 MARLINSHARP_NO_GEMM_TUNING=1
