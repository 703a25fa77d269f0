#!/usr/bin/env bash
# Session 16, call 7, H100: what the captured decode graphs hold (MARLINSHARP_DEBUG_GRAPH_DOT: cuGraphDebugDotPrint with
# kernel names), FP16 and INT4 at batch 1: node kinds, kernels per kind, and which cuBLAS kernels run each GEMM.
set -uo pipefail
B=.bundle
MARLINSHARP_DEBUG_GRAPH_DOT=/tmp/dot timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1 > $OUT/e2e.txt 2>&1
grep -aE '^ +[0-9]+ ' $OUT/e2e.txt
ls -la /tmp/dot
for f in /tmp/dot/*.dot; do
  echo "== $f"; gzip -c $f > $OUT/$(basename $f).gz
  grep -oE 'MEMSET|MEMCPY|KERNEL|EVENT_RECORD|EVENT_WAIT|EMPTY|HOST' $f | sort | uniq -c
  grep -oE '(function|func|name)[^|\\"]{0,12}[^|\\"]*' $f | sed 's/.*[=:] *//' | cut -c1-90 | sort | uniq -c | sort -rn | head -25
done
