#!/usr/bin/env bash
# Session 14, call 8, H100: validation of the session's final code (whole GPU suite, verify, sanitizers).
set -uo pipefail
bash scripts/gpu/validate.sh
