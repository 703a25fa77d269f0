#!/usr/bin/env bash
# Session 13, call 6, H100: validation of the session's final code (whole GPU suite, verify, sanitizers) and the full
# e2e sweep for the record (JSON and text to $OUT).
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
timeout 300 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e-llama2-7b-h100-session13.json > $OUT/e2e-llama2-7b-h100-session13.txt 2>&1
grep -aE "^ +[0-9]+ |floor" $OUT/e2e-llama2-7b-h100-session13.txt
timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-again.txt 2>&1
grep -aE "^ +[0-9]+ " $OUT/e2e-again.txt | awk '{print "  again", $1, $2, $5, $8}'
