#!/usr/bin/env bash
# Session 4, call 6: canonical GEMM sweep (peak, scaled, every layer set) with the final selector.
set -uo pipefail
B=.bundle
timeout 560 $B/marlin bench gemm --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1; tail -60 $OUT/gemm.txt
