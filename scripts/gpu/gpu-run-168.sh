#!/usr/bin/env bash
# Session 16, call 8, H100: each cuBLAS FP16 algorithm inside a chain "small kernel -> GEMM" (graph of 16 pairs,
# scripts/gpu/micro/cublaslt_chain.cu): does an algorithm without split-K's reduction kernel beat GemmEx's choice for
# o and down (beta = 1) once the extra kernel boundary counts?
set -uo pipefail
nvcc -O2 -arch=sm_90 scripts/gpu/micro/cublaslt_chain.cu -lcublasLt -lcublas -o /tmp/chain 2>&1 | grep -v "^$" | head -20
/tmp/chain 2>&1 | tee $OUT/chain.txt
