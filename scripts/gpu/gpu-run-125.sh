#!/usr/bin/env bash
# Session 11, call 11, H100: validation of the current code on the H100 (whole GPU suite, verify, memcheck / racecheck /
# synccheck on verify --quick), then where an e2e decode step goes at batch 1 and 16 (GPU time per operation).
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
timeout 200 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/prof.txt 2>&1
grep -avE "^bench e2e:" $OUT/prof.txt | tail -60
