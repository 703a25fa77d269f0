#!/usr/bin/env bash
set -uo pipefail
B=.bundle
echo "== small batch (MB=1): m=1,16"
bash scripts/gpu/gpu-tune.sh 1,16 1,256,128,4,1 1,256,128,6,1 1,256,128,8,1 1,256,128,3,2 1,128,128,4,2 1,128,128,6,2 1,256,64,6,2 1,256,64,7,2 1,64,128,8,2 \
  1,256,128,6,1,0,256 1,128,128,6,2,0,256 1,128,128,6,2,1,0 1,256,64,7,2,0,256
echo "== MB=2: m=32"
bash scripts/gpu/gpu-tune.sh 32 2,256,128,4,1 2,256,128,6,1 2,128,128,4,2 2,256,64,6,2 2,128,64,6,2
echo "== MB=4: m=64,128"
bash scripts/gpu/gpu-tune.sh 64,128 4,256,64,4,1 4,256,64,6,1 4,256,128,4,1 4,256,128,3,1 4,128,128,4,1 4,128,64,6,1
echo "== sanitizers"
export MARLINSHARP_CACHE_DIR=/tmp/kc
timeout 150 compute-sanitizer --tool memcheck --print-limit 20 $B/marlin verify --quick --seed 7 2>&1 | tail -6 | tee $OUT/memcheck.txt
timeout 150 compute-sanitizer --tool racecheck --racecheck-report hazard --print-limit 20 $B/marlin verify --quick --seed 8 2>&1 | tail -6 | tee $OUT/racecheck.txt
