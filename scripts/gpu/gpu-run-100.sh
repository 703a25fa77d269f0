#!/usr/bin/env bash
# Session 10, call 5: feasibility of a faster FP16 baseline for the engine: cuBLASLt's heuristic algorithms against
# cublasGemmEx's default on the Llama-2-7B decode GEMMs at m = 1 and 16 (scripts/gpu/micro/cublaslt_algos.cu).
set -uo pipefail
nvcc -O2 -arch=sm_90 scripts/gpu/micro/cublaslt_algos.cu -lcublasLt -lcublas -o /tmp/lt 2>&1 | tail -5
/tmp/lt
