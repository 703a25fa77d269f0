#!/usr/bin/env bash
# Session 8, call 5: validation of the activation-ring streamed kernel: every GPU test, verify, sanitizers.
set -uo pipefail
bash scripts/gpu/validate.sh
