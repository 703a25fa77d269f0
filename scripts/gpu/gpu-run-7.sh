#!/usr/bin/env bash
set -uo pipefail
B=.bundle
export PYTHONUNBUFFERED=1
python3 scripts/make_llama_reference.py /tmp/llref > $OUT/llref.log 2>&1; tail -4 $OUT/llref.log
mkdir -p $B/tests/data/tiny-llama && cp -r /tmp/llref/tiny-llama/. $B/tests/data/tiny-llama/
tar -czf $OUT/tiny-llama.tgz -C /tmp/llref tiny-llama
echo "== engine + tokenizer tests"
timeout 200 $B/run-tests -namespace MarlinSharp.Tests.Engine -namespace MarlinSharp.Tests.Tokenization -noclass MarlinSharp.Tests.Engine.KernelCompileTests > $OUT/enginetests.txt 2>&1
grep -aE "\[FAIL\]" -A3 $OUT/enginetests.txt | head -30; tail -1 $OUT/enginetests.txt
echo "== bench gemm (defaults)"
timeout 330 $B/marlin bench gemm --json $OUT/gemm.json --svg $OUT/gemm.svg > $OUT/gemm.txt 2>&1; cat $OUT/gemm.txt | tail -60
