#!/usr/bin/env bash
# Tuning sweep: one `marlin bench gemm` per forced configuration on the peak shape (FP16 timed in each run).
# Usage: scripts/gpu-tune.sh "M_LIST" CONFIG... ; prints one line per (config, m) and keeps the logs under $OUT.
set -uo pipefail
B=${BUNDLE:-.bundle}
ms=$1; shift
for c in "$@"; do
  timeout 120 $B/marlin bench gemm --shape peak --m "$ms" --config "$c" > "$OUT/tune_${c//,/_}.txt" 2>&1
  grep -E "^peak" "$OUT/tune_${c//,/_}.txt" | awk -v c="$c" '{printf "%-22s m=%-5s fp16=%s int4=%s %s %s GB/s\n", c, $3, $4, $5, $6, $8}'
  grep -E "^marlin:" "$OUT/tune_${c//,/_}.txt" | sed "s/^/$c: /"
done
