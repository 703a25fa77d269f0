#!/usr/bin/env bash
# Session 12, call 3, H100: why pipelining gained nothing in call 2. e2e --profile at batch 1 and 16 now also times
# chained steps at a fixed position (host time queueing the next step against waiting for the last).
set -uo pipefail
B=.bundle
which nsys ncu 2>&1 | head -3
timeout 240 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/prof.txt 2>&1
grep -avE "^bench e2e:" $OUT/prof.txt | grep -aE "x$|ms/token|back to back|pipelined|^ +[0-9]+ " | head -30
