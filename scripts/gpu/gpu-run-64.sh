#!/usr/bin/env bash
# Session 6, call 11: the streamed kernel with staged activations at 9..16 rows (forced), on the Llama-2-7B and -70B
# layer sets, against the selector's dense kernel.
set -uo pipefail
B=.bundle
for c in default stream,4 stream,8; do
  if [ $c = default ]; then cfg=""; else cfg="--config $c"; fi
  timeout 120 $B/marlin bench gemm --layers llama2-7b --layers llama2-70b --layers-m 12,16 $cfg > $OUT/l.txt 2>&1
  grep -aE "^llama" $OUT/l.txt | awk -v c="$c" '{printf "%-8s %s\n", c, $0}'
  grep -aiE "error|exception" $OUT/l.txt | head -3
done
