#!/usr/bin/env bash
# Reference data from Hugging Face (tokenizers, transformers) made on the GPU host, then every test with it, then e2e.
set -uo pipefail
B=.bundle
export PYTHONUNBUFFERED=1
{ python3 scripts/make_tokenizer_reference.py $B/tests/data/tokenizers; echo "tokenizer reference rc=$?";
  python3 scripts/make_llama_reference.py /tmp/llref; echo "llama reference rc=$?"; } > $OUT/refdata.log 2>&1
tail -5 $OUT/refdata.log
mkdir -p $B/tests/data/tiny-llama && cp -r /tmp/llref/tiny-llama/. $B/tests/data/tiny-llama/
tar -czf $OUT/refdata.tgz -C $B/tests/data tokenizers tiny-llama; ls -la $OUT/refdata.tgz
echo "== all tests (compile checks excluded: they are CI's)"
timeout 330 $B/run-tests -noclass MarlinSharp.Tests.Kernels.KernelCompileTests > $OUT/alltests.txt 2>&1
grep -aE "\[FAIL\]" $OUT/alltests.txt | head -40; tail -1 $OUT/alltests.txt
echo "== bench e2e"
timeout 150 $B/marlin bench e2e --shape llama2-7b --json $OUT/e2e.json > $OUT/e2e.txt 2>&1; tail -25 $OUT/e2e.txt
