#!/usr/bin/env bash
# Do bulk weight copies help 17..32 swapped rows (one CTA/SM)?
set -uo pipefail
bash scripts/gpu/gpu-tune.sh 24,32 2,256,128,4,1,0,0,4,0,0 2,256,128,4,1,0,0,4,0,1 2,256,128,5,1,0,0,4,0,1
