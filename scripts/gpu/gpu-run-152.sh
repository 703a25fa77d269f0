#!/usr/bin/env bash
# Session 14, call 9, H100: the full e2e sweep for the record (JSON and text to $OUT), a second batch 1 / 16 run, and
# --profile at batch 1 and 16.
set -uo pipefail
B=.bundle
timeout 300 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e-llama2-7b-h100-session14.json > $OUT/e2e-llama2-7b-h100-session14.txt 2>&1
grep -aE "^ +[0-9]+ |floor" $OUT/e2e-llama2-7b-h100-session14.txt
timeout 120 $B/marlin bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-again.txt 2>&1
grep -aE "^ +[0-9]+ " $OUT/e2e-again.txt | awk '{print "  again", $1, $2, $5, $8}'
timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/profile.txt 2>&1
grep -aE "^ +[0-9]+ |back to back|pipelined steps|kernels: qkv" $OUT/profile.txt | grep -v "^bench e2e: [A-Z]" ; grep -a "kernels: qkv" $OUT/profile.txt
