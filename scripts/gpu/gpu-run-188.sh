#!/usr/bin/env bash
# Session 19, call 4, H100: final numbers for the push reduction (code unchanged since call 3, which passed the whole
# suite, verify and the sanitizers): the full e2e sweep with JSON, transformers' own FP16 generate as the side-by-side
# row, and two more alternating rounds against dc48763 (cli-old) at batch 1 / 16.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
timeout 300 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e-llama2-7b-h100-session19.json > $OUT/e2e-llama2-7b-h100-session19.txt 2>&1
grep -avE "^bench e2e:" $OUT/e2e-llama2-7b-h100-session19.txt | tr -d '\r' | tail -11
echo "-- transformers"; PYTHONUNBUFFERED=1 timeout 150 python3 scripts/hf_generate_bench.py $OUT/hf-generate-llama2-7b-h100-session19.json --batch 1,16 2>&1 | grep -v Warning | tail -3
e2e() { # label, cli, batches, env...
  local label=$1 cli=$2 batches=$3; shift 3
  env "$@" timeout 120 $B/$cli bench e2e --shape llama2-7b --batch $batches > /tmp/e2e-$label.txt 2>&1
  echo "$label: $(grep -aE '^ +[0-9]+ ' /tmp/e2e-$label.txt | awk '{printf "b%s %s/%s=%s  ", $1, $2, $5, $8}') $(grep -aiE 'error|exception' /tmp/e2e-$label.txt | head -2)"
}
for i in 4 5; do e2e old$i marlin-old 1,16; e2e new$i marlin 1,16; done
