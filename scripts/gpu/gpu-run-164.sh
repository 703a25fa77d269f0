#!/usr/bin/env bash
# Session 16, call 4, H100: may a cuBLAS FP16 GEMM follow our kernel through a programmatic graph edge
# (scripts/gpu/micro/cublas_pdl.cu: correctness with a writer that spins before writing, and time per pair)?
set -uo pipefail
nvcc -O2 -arch=sm_90 scripts/gpu/micro/cublas_pdl.cu -lcublas -o /tmp/pdl 2>&1 | grep -v "^$" | head -20
/tmp/pdl 2>&1 | tee $OUT/pdl.txt
