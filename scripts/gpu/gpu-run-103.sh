#!/usr/bin/env bash
# Session 10, call 8: retuning the wgmma stages and CTAs per SM now that grouped scales go to FP32 sums (peak shape at
# 16, 32 and 64 rows; the 7B / 70B layer sets at 16 rows for the 16-row variants).
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
t() {  # m config [layers]
  extra=""; [[ ${3:-} == layers ]] && extra="--layers llama2-7b llama2-70b --layers-m $1"
  timeout 120 $B/marlin bench gemm --shape peak --m $1 --config $2 $extra > $OUT/g.txt 2>&1
  echo "$2 m=$1: $(grep -aE '^peak' $OUT/g.txt | awk '{print $5, $6, $7}') $(grep -aE '^llama2-(7|70)b +[0-9]+ ' $OUT/g.txt | awk '{print $1, $4, $5}' | paste -sd' ')"
  grep -aiE "error|exception" $OUT/g.txt | head -2
}
for s in 3 4 5 6; do t 16 wgmma,16,128,$s,2 layers; done
t 16 wgmma,16,128,4,1 layers
for s in 3 4 5; do t 32 wgmma,32,128,$s,2; done
t 32 wgmma,32,128,4,1
for s in 3 4 5 6; do t 64 wgmma,64,128,$s,1; done
t 64 wgmma,64,128,3,2
