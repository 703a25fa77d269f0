#!/usr/bin/env bash
# Session 4, call 4: final selector (streamed kernel on small layers at up to 16 rows) — whole suite, verify,
# sanitizers, then e2e batch 1 and 16 with and without the streamed kernel in one call.
set -uo pipefail
B=.bundle
bash scripts/gpu/validate.sh
echo "== e2e (streamed kernel on / off)"
timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 2>&1 | grep -aE "^ *(1|16) " | sed 's/^/on  /'
MARLINSHARP_NO_STREAM=1 timeout 150 $B/marlin bench e2e --shape llama2-7b --batch 1,16 2>&1 | grep -aE "^ *(1|16) " | sed 's/^/off /'
