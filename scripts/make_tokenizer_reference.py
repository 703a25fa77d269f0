#!/usr/bin/env python3
"""Generate reference tokenizer data for MarlinSharp's TokenizerReferenceTests.

Usage:  python scripts/make_tokenizer_reference.py tests/MarlinSharp.Tests/data/tokenizers

Needs only the Hugging Face `tokenizers` package (no network). Trains small BPE tokenizers on a
built-in corpus and, for each, writes OUTDIR/<name>/tokenizer.json and OUTDIR/<name>/cases.json:
  [{"text", "ids", "ids_no_special", "decoded", "decoded_skip_special"}, ...]
Everything is deterministic (fixed seeds); every file stays well under 1 MB.
"""

import json
import os
import random
import sys

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Qwen2-like pattern written with possessive quantifiers (exercises the .NET translation to atomic groups).
POSSESSIVE_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s*[\r\n]|\s+(?!\S)|\s+"
)

SEED_TEXT = [
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure you've seen it; they'll say it's fine, but we'd rather check. DON'T PANIC!",
    "Llamas, alpacas and vicuñas live in the Andes; they're camelids.",
    "naïve café, déjà vu, façade, jalapeño, Ångström, smörgåsbord, Zürich, São Paulo.",
    "Straße und Größe; œuvre; Æsir; ﬁne ligatures; ½ + ¼ = ¾.",
    "Пример текста на русском языке. Ελληνικά γράμματα. עברית. مرحبا بالعالم.",
    "日本語の文章です。東京は大きな都市です。中文文本：你好，世界！한국어 문장입니다.",
    "Emoji: 😀😃😄 👍🏽 👩‍👩‍👧‍👦 🇫🇷 🇯🇵 ❤️ 🎉🚀✨",
    "Numbers: 0 1 12 123 1234 12345 3.14159 2,718 1e-5 -42 0x1F 1_000_000 2024-06-01",
    "def add(a, b):\n    return a + b\n\nclass Foo:\n    pass\n",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }  // dot product",
    "if x != None and y >= 3: print(f\"{x!r} -> {y:.2f}\")",
    "<html><body><p class=\"x\">Hello &amp; goodbye</p></body></html>",
    "SELECT id, name FROM users WHERE age > 30 ORDER BY name;",
    "    indented line\n\tTabbed\tline\n\n\nthree newlines\r\nwindows line end",
    "Whitespace   runs     of    different   lengths   and trailing spaces   ",
    "URL: https://example.com/path?q=1&r=2#frag  email: someone@example.org",
    "Math: ∀x∈ℝ, x² ≥ 0; ∑ᵢ aᵢ = ∫ f(x) dx; α β γ δ ε.",
    "Astral letters: 𠀀𠀁𠀂 𝒜𝒷𝒸 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "Combining: e\u0301 a\u0300 o\u0308 n\u0303 (decomposed forms).",
]

WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her all she there would their we him been has when who will more no if out so said what up its about "
    "into than them can only other new some could time these two may then do first any my now such like our over "
    "man me even most made after also did many before must through back years where much your way well down should "
    "because each just those people how too little state good very make world still own see men work long get here "
    "between both life being under never day same another know while last might us great old year off come since "
    "token model tensor kernel matrix vector weight quantize inference layer attention rotary embedding softmax"
).split()


def build_corpus():
    rng = random.Random(1234)
    lines = list(SEED_TEXT) * 3
    for _ in range(1500):
        n = rng.randint(3, 14)
        words = [rng.choice(WORDS) for _ in range(n)]
        if rng.random() < 0.3:
            words[0] = words[0].capitalize()
        sep = rng.choice([" ", " ", " ", "  ", ", ", "\n", " - "])
        line = sep.join(words) + rng.choice([".", "!", "?", "", ";", "\n"])
        if rng.random() < 0.2:
            line += " " + str(rng.randint(0, 10 ** rng.randint(1, 7)))
        if rng.random() < 0.1:
            line += " " + rng.choice(SEED_TEXT)
        lines.append(line)
    return lines


FRAGMENTS = [
    "", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\t\t  \n",
    "hello", "Hello", "HELLO", "hello world", " hello", "hello ", "  hello  world  ",
    "I'm", "YOU'VE", "they'll", "it's", "we'd", "'s", "don't",
    "0", "7", "42", "123", "1234", "12345", "1234567", "3.14159", "-1e-5", "1,000,000", "2024-06-01",
    "café", "naïve", "Ångström", "jalapeño", "e\u0301", "Cafe\u0301", "ﬁ", "½",
    "日本語", "東京", "你好，世界", "한국어", "Привет", "Ελληνικά", "مرحبا", "עברית",
    "😀", "👍🏽", "👩‍👩‍👧‍👦", "🇫🇷", "❤️", "🎉🚀✨", "😀😀😀",
    "𠀀", "𝒜𝒷𝒸", "∀x∈ℝ", "x²",
    "def f(x):\n    return x*2", "a[i] += b->c;", "{\"k\": [1, 2]}", "<p>&amp;</p>", "#include <stdio.h>",
    "https://example.com/?q=1", "zzzqqqxxx", "ĳ", "\u00a0", "\u3000", "\u200b", "ab\u2028cd",
    "!!!", "...", "?!", "--", "__init__", "~/path/to/file.txt",
]


def build_cases(specials, rng):
    texts = ["", " ", "hello", " hello", "Hello world!", "  leading", "trailing  ", "\n", "a\n\nb", "12345678"]
    texts += list(SEED_TEXT)
    for s in specials:
        texts += [s, s + "hello", "hello" + s, "hello " + s + " world", s + s, " " + s, s + " ", "x" + s[:-1], s + "\n" + s]
    seps = ["", " ", "  ", "\n", "\t", " \n", "   \n\n"]
    while len(texts) < 320:
        n = rng.randint(1, 6)
        parts = []
        for _ in range(n):
            if specials and rng.random() < 0.12:
                parts.append(rng.choice(specials))
            else:
                parts.append(rng.choice(FRAGMENTS))
        text = ""
        for i, p in enumerate(parts):
            text += p
            if i + 1 < len(parts):
                text += rng.choice(seps)
        texts.append(text)
    seen = set()
    unique = []
    for t in texts:
        if t not in seen:
            seen.add(t)
            unique.append(t)
    return unique


def byte_level_trainer(vocab_size, special_tokens):
    return trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )


def make_gpt2_style(corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tok.train_from_iterator(corpus, trainer=byte_level_trainer(2000, ["<|endoftext|>"]))
    # A non-special added token with lstrip/rstrip, matched in the raw text.
    tok.add_tokens([AddedToken("<tool>", lstrip=True, rstrip=True, normalized=False, special=False)])
    return tok, ["<|endoftext|>", "<tool>"]


def make_llama3_style(corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    tok.train_from_iterator(corpus, trainer=byte_level_trainer(2000, specials))
    data = json.loads(tok.to_str())
    data["model"]["ignore_merges"] = True  # as in the Llama 3 tokenizer.json
    tok = Tokenizer.from_str(json.dumps(data))
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(
            single="<|begin_of_text|> $A",
            pair="<|begin_of_text|> $A <|begin_of_text|> $B",
            special_tokens=[("<|begin_of_text|>", bos)],
        ),
    ])
    return tok, specials


def make_possessive_nfc(corpus):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(POSSESSIVE_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok.train_from_iterator(corpus, trainer=byte_level_trainer(1500, specials))
    return tok, specials


def rebuild_with_byte_tokens(tok, specials):
    """Reorder the trained vocab like Llama 2: specials, then <0x00>..<0xFF>, then learned tokens."""
    data = json.loads(tok.to_str())
    old_vocab = data["model"]["vocab"]
    new_vocab = {}
    for s in specials:
        new_vocab[s] = len(new_vocab)
    for b in range(256):
        new_vocab["<0x%02X>" % b] = len(new_vocab)
    for token, _ in sorted(old_vocab.items(), key=lambda kv: kv[1]):
        if token not in new_vocab:
            new_vocab[token] = len(new_vocab)
    data["model"]["vocab"] = new_vocab
    data["model"]["unk_token"] = "<unk>"
    data["model"]["byte_fallback"] = True
    data["model"]["fuse_unk"] = True
    for entry in data.get("added_tokens") or []:
        entry["id"] = new_vocab[entry["content"]]
    return Tokenizer.from_str(json.dumps(data))


def sp_trainer():
    # limit_alphabet keeps rare characters out of the vocab so that byte fallback is exercised.
    return trainers.BpeTrainer(
        vocab_size=1200,
        min_frequency=2,
        show_progress=False,
        special_tokens=["<unk>", "<s>", "</s>"],
        limit_alphabet=100,
    )


def finish_sp(tok):
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    tok.add_tokens([AddedToken("<sep>", normalized=False, special=False)])
    return tok


def make_llama2_style(corpus):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.pre_tokenizer = None
    tok.decoder = decoders.Sequence([
        decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)
    ])
    tok.train_from_iterator(corpus, trainer=sp_trainer())
    tok = finish_sp(rebuild_with_byte_tokens(tok, ["<unk>", "<s>", "</s>"]))
    return tok, ["<s>", "</s>", "<unk>", "<sep>"]


def make_metaspace_style(corpus):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    tok.train_from_iterator(corpus, trainer=sp_trainer())
    tok = finish_sp(rebuild_with_byte_tokens(tok, ["<unk>", "<s>", "</s>"]))
    return tok, ["<s>", "</s>", "<unk>", "<sep>"]


def write_reference(outdir, name, tok, specials, seed):
    folder = os.path.join(outdir, name)
    os.makedirs(folder, exist_ok=True)
    tok.save(os.path.join(folder, "tokenizer.json"))
    # Reload from disk so the cases describe exactly the saved file.
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    rng = random.Random(seed)
    cases = []
    for text in build_cases(specials, rng):
        ids = tok.encode(text, add_special_tokens=True).ids
        ids_no_special = tok.encode(text, add_special_tokens=False).ids
        cases.append({
            "text": text,
            "ids": ids,
            "ids_no_special": ids_no_special,
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
        })
    path = os.path.join(folder, "cases.json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n]\n")
    sizes = [os.path.getsize(os.path.join(folder, f)) for f in ("tokenizer.json", "cases.json")]
    print(f"{name}: vocab {tok.get_vocab_size()}, {len(cases)} cases, tokenizer.json {sizes[0]} B, cases.json {sizes[1]} B")
    if max(sizes) > 1_000_000:
        print(f"warning: {name} output exceeds 1 MB", file=sys.stderr)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    print(f"tokenizers {tokenizers.__version__}")
    corpus = build_corpus()
    builders = [
        ("gpt2_bytelevel", make_gpt2_style),
        ("llama3_bytelevel", make_llama3_style),
        ("possessive_nfc_bytelevel", make_possessive_nfc),
        ("llama2_sentencepiece", make_llama2_style),
        ("metaspace_sentencepiece", make_metaspace_style),
    ]
    for seed, (name, build) in enumerate(builders):
        tok, specials = build(corpus)
        write_reference(outdir, name, tok, specials, seed)


if __name__ == "__main__":
    main()
