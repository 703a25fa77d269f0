#!/usr/bin/env bash
# Session 17, call 2, H100: kernel timeline of one graph-replayed decode step (MARLINSHARP_DEBUG_TIMELINE: %globaltimer
# stamps of every streamed GEMM CTA and decode attention block: entry, wait returned, main loop done, exit), llama2-7b
# batch 1 and 16, both formats; plus the same e2e without the probe, to see what the probe itself costs.
set -uo pipefail
B=.bundle
MARLINSHARP_DEBUG_TIMELINE=$OUT MARLINSHARP_CACHE_DIR=/tmp/kc-tl timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/e2e-timeline.txt 2>&1
grep -aE "^ +[0-9]+ |timeline" $OUT/e2e-timeline.txt | tr -d '\r'
ls -la $OUT
