#!/usr/bin/env bash
# Session 11, call 9, on an H100 (calls 7-8: on the H200 the 16-row kernel is power-capped at 700 W, SM clock 1.56-1.68
# GHz while it runs; copies alone draw 644 W, compute alone 596 W). The H100's HBM3 is slower, so the same kernel may
# fit its power budget: the GEMM sweep (peak shape m = 1..1024 and the model sets at m = 16) and e2e llama2-7b, with
# clocks and power sampled during the m = 16 peak run.
set -uo pipefail
B=.bundle
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm,clocks.max.mem,memory.total --format=csv
timeout 60 $B/marlin info 2>&1 | head -12
timeout 300 $B/marlin bench gemm --shape peak --m 1,2,4,8,12,16,32,64,128,256,1024 --layers-m 16 --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1
grep -aE '^(peak|llama|falcon)' $OUT/gemm.txt | awk 'NF <= 6 || $1 == "peak"'
nvidia-smi --query-gpu=clocks.sm,power.draw.instant,clocks_throttle_reasons.active --format=csv,noheader,nounits -lms 20 > $OUT/smi.txt 2>&1 &
SMI=$!
timeout 100 $B/marlin bench gemm --shape peak --m 16,16,16,16 > $OUT/g16.txt 2>&1
kill $SMI; wait $SMI 2>/dev/null
grep -aE '^peak' $OUT/g16.txt | awk '{print $5, $6}' | paste -sd' '
awk -F', ' '$2 > 300 { print int($1 / 50) * 50, $3 }' $OUT/smi.txt | sort | uniq -c
timeout 250 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1
grep -aE '^ +[0-9]+ |floor' $OUT/e2e.txt
