#!/usr/bin/env bash
# Session 15, call 4, H100: folded-norm FP16 decode with rope_append_normed's slot read moved before the reduction.
# Whole GPU suite, verify, sanitizers (validate.sh), memcheck / racecheck on an FP16 generate of the committed tiny model
# (the new kernels), then e2e batch 1 / 16: previous CLI against this one, alternating, two rounds; then the full sweep.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
for tool in memcheck racecheck; do
  echo "== $tool on generate (FP16, tiny model)"
  MARLINSHARP_CACHE_DIR=/tmp/kc3 timeout 150 compute-sanitizer --tool $tool --print-limit 10 $B/marlin generate \
    --model tests/MarlinSharp.Tests/data/tiny-llama --prompt-ids 1,2,3,4,5 --max-tokens 24 2>&1 | tail -2
done
for round in 1 2; do
  for cli in marlin-old marlin; do
    timeout 120 $B/$cli bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$cli-$round.txt 2>&1
    echo "== $cli round $round"; grep -aE "^ +[0-9]+ " $OUT/e2e-$cli-$round.txt | awk '{print "  ", $1, $2, $5, $8}'
    grep -a 'floor' $OUT/e2e-$cli-$round.txt | sed 's/.*= //'
  done
done
timeout 200 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e-llama2-7b-h100-session15.json > $OUT/e2e-llama2-7b-h100-session15.txt 2>&1
grep -avE "^bench e2e:" $OUT/e2e-llama2-7b-h100-session15.txt | tail -11
