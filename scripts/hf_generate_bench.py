#!/usr/bin/env python3
"""Side-by-side row for `marlin bench e2e`: Hugging Face transformers' own FP16 generate on the same GPU.

Usage: python3 scripts/hf_generate_bench.py OUT.json [--shape llama2-7b] [--batch 1,16]

Builds a random-weight LlamaForCausalLM of the named shape directly on the GPU in FP16 (no download), then for each
batch size runs greedy generate with 64 input and 64 output tokens, as the Marlin paper's end-to-end benchmark and
`marlin bench e2e` do. Time per output token = (time for 64 new tokens - time for 1 new token) / 63, so the prefill is
excluded; both are wall-clock around synchronized generate calls, after a warm-up.
"""
import argparse
import json
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SHAPES = {
    "llama2-7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=32, vocab_size=32000),
    "llama3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=8, vocab_size=128256, rope_theta=500000.0),
}


def timed_generate(model, ids, new_tokens):
    mask = torch.ones_like(ids)
    torch.cuda.synchronize()
    start = time.perf_counter()
    model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=new_tokens,
                   min_new_tokens=new_tokens, pad_token_id=0)
    torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--shape", default="llama2-7b", choices=sorted(SHAPES))
    parser.add_argument("--batch", default="1,16")
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--output", type=int, default=64)
    args = parser.parse_args()

    torch.manual_seed(0)
    config = LlamaConfig(max_position_embeddings=4096, **SHAPES[args.shape])
    torch.set_default_dtype(torch.float16)
    with torch.device("cuda"):
        model = LlamaForCausalLM(config).eval()
    model.generation_config.eos_token_id = None
    rows = []
    with torch.no_grad():
        for batch in [int(b) for b in args.batch.split(",")]:
            ids = torch.randint(3, config.vocab_size, (batch, args.input), device="cuda")
            timed_generate(model, ids, 8)                       # warm-up
            prefill = min(timed_generate(model, ids, 1) for _ in range(3))
            full = min(timed_generate(model, ids, args.output) for _ in range(2))
            per_token = (full - prefill) / (args.output - 1)
            rows.append({"batch": batch, "ms_per_token": per_token * 1e3, "tokens_per_s": batch / per_token,
                         "prefill_ms": prefill * 1e3})
            print(f"transformers FP16 generate, {args.shape}, batch {batch}: {per_token * 1e3:.3f} ms/token, "
                  f"{batch / per_token:.1f} tok/s, prefill {prefill * 1e3:.1f} ms", flush=True)
    report = {"what": "Hugging Face transformers FP16 generate (greedy, eager attention defaults), random weights",
              "shape": args.shape, "torch": torch.__version__, "transformers": __import__("transformers").__version__,
              "device": torch.cuda.get_device_name(0), "input_tokens": args.input, "output_tokens": args.output,
              "rows": rows}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
