using System.Text.Json.Nodes;
using MarlinSharp.Models.Tokenization;

namespace MarlinSharp.Tests.Tokenization;

/// <summary>Small hand-built tokenizer.json documents whose expected ids are derived by hand in the tests.</summary>
internal static class TokenizerFixtures
{
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static readonly char[] ByteChars = BuildByteChars();

    private static char[] BuildByteChars()
    {
        var map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + n++);
        }
        return map;
    }

    public static JsonObject AddedToken(int id, string content, bool special = true, bool normalized = false, bool lstrip = false, bool rstrip = false, bool singleWord = false) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = singleWord, ["lstrip"] = lstrip,
        ["rstrip"] = rstrip, ["normalized"] = normalized, ["special"] = special,
    };

    public static JsonObject Template(string token, int id) => new()
    {
        ["type"] = "TemplateProcessing",
        ["single"] = new JsonArray(
            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = 0 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
        ["pair"] = new JsonArray(
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
        ["special_tokens"] = new JsonObject { [token] = new JsonObject { ["id"] = token, ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(token) } },
    };

    /// <summary>
    /// Llama-3 style byte-level BPE. Vocab: byte b has id b; 256 "he", 257 "Ġt", 258 "Ġthe", 259 "ll", 260 "el";
    /// added 300 &lt;|begin_of_text|&gt;, 301 &lt;|end_of_text|&gt; (special). Merges in the given order.
    /// </summary>
    public static JsonObject ByteLevel(string[]? merges = null, bool pairMerges = false)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteChars[b].ToString()] = b;
        vocab["he"] = 256; vocab["Ġt"] = 257; vocab["Ġthe"] = 258; vocab["ll"] = 259; vocab["el"] = 260;
        merges ??= ["h e", "Ġ t", "Ġt he", "l l", "e l"];
        var m = new JsonArray();
        foreach (var s in merges)
            m.Add(pairMerges ? new JsonArray(s.Split(' ')[0], s.Split(' ')[1]) : JsonValue.Create(s));
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(AddedToken(300, "<|begin_of_text|>"), AddedToken(301, "<|end_of_text|>")),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Llama3Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["processors"] = new JsonArray(
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
                    Template("<|begin_of_text|>", 300)),
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = m,
            },
        };
    }

    /// <summary>
    /// SentencePiece-style (Llama 2) BPE. Vocab: 0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;, 3..258 &lt;0x00&gt;..&lt;0xFF&gt;,
    /// 259 ▁, 260 h, 261 e, 262 l, 263 o, 264 ▁h, 265 el, 266 ▁hel, 267 lo, 268 ▁hello, 269 w, 270 r, 271 d.
    /// Merges: "▁ h", "e l", "▁h el", "l o", "▁hel lo".
    /// </summary>
    public static JsonObject SentencePiece(bool metaspace = false, string prependScheme = "first", bool byteFallback = true)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 3 + b;
        string[] rest = ["▁", "h", "e", "l", "o", "▁h", "el", "▁hel", "lo", "▁hello", "w", "r", "d"];
        for (int i = 0; i < rest.Length; i++) vocab[rest[i]] = 259 + i;
        var doc = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(AddedToken(0, "<unk>"), AddedToken(1, "<s>"), AddedToken(2, "</s>"),
                AddedToken(272, "<sep>", special: false), AddedToken(273, "<mask>", special: false, lstrip: true)),
            ["normalizer"] = metaspace ? null : new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = metaspace
                ? new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = prependScheme, ["split"] = true }
                : null,
            ["post_processor"] = Template("<s>", 1),
            ["decoder"] = metaspace
                ? new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = prependScheme, ["split"] = true }
                : new JsonObject
                {
                    ["type"] = "Sequence",
                    ["decoders"] = new JsonArray(
                        new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                        new JsonObject { ["type"] = "ByteFallback" },
                        new JsonObject { ["type"] = "Fuse" },
                        new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
                },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = "<unk>", ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = true, ["byte_fallback"] = byteFallback, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = new JsonArray("▁ h", "e l", "▁h el", "l o", "▁hel lo"),
            },
        };
        return doc;
    }

    public static Tokenizer Load(JsonObject doc, string? config = null) => Tokenizer.FromJson(doc.ToJsonString(), config);
}
