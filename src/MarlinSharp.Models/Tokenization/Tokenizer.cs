using System.Collections.Frozen;
using System.Text.Json;

namespace MarlinSharp.Models.Tokenization;

/// <summary>
/// A CPU tokenizer for Hugging Face <c>tokenizer.json</c> files with a BPE model: byte-level BPE
/// (GPT-2, Llama 3, Qwen2) and SentencePiece-style BPE with byte fallback (Llama 2, TinyLlama, Mistral).
/// Encoding follows the Hugging Face pipeline: added tokens are split out of the raw text, the rest is
/// normalized, pre-tokenized, BPE-encoded, and the post-processor adds special tokens such as BOS.
/// Instances are immutable and safe to use from several threads.
/// </summary>
public sealed class Tokenizer
{
    private readonly string _source;
    private readonly TextNormalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly BpeModel _model;
    private readonly PostProcessor _postProcessor;
    private readonly TokenDecoder? _decoder;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly Dictionary<string, AddedToken> _addedByContent;
    private readonly AddedTokenMatcher _rawMatcher;
    private readonly AddedTokenMatcher _normalizedMatcher;

    /// <summary>Number of ids: one more than the largest id in the model vocabulary and the added tokens.</summary>
    public int VocabularySize { get; }

    /// <summary>Beginning-of-sequence id: tokenizer_config.json "bos_token", else the special token the post-processor puts first.</summary>
    public int? BosTokenId { get; }

    /// <summary>End-of-sequence id: tokenizer_config.json "eos_token", else the post-processor's trailing token, else a conventional name.</summary>
    public int? EosTokenId { get; }

    /// <summary>Ids of the added tokens marked <c>special</c> (plus bos/eos/unk/pad named by tokenizer_config.json).</summary>
    public IReadOnlySet<int> SpecialTokenIds { get; }

    /// <summary>Ids that <see cref="Encode"/> puts before the text when <c>addSpecialTokens</c> is true.</summary>
    public IReadOnlyList<int> PrefixTokenIds => _postProcessor.Prefix;

    /// <summary>Ids that <see cref="Encode"/> puts after the text when <c>addSpecialTokens</c> is true.</summary>
    public IReadOnlyList<int> SuffixTokenIds => _postProcessor.Suffix;

    private Tokenizer(string source, JsonElement root, JsonElement? config, string configSource)
    {
        _source = source;
        var ctx = new JsonContext(source);
        if (root.ValueKind != JsonValueKind.Object) throw ctx.Invalid("(root)", "must be a JSON object");

        var model = ctx.Require(root, "model", "");
        string modelType = JsonContext.TryGet(model, "type", out var mt) && mt.ValueKind == JsonValueKind.String
            ? mt.GetString()!
            : (JsonContext.TryGet(model, "merges", out _) ? "BPE" : throw ctx.Invalid("model.type", "is missing"));
        if (modelType != "BPE") throw ctx.Unsupported("model.type", $"model type \"{modelType}\" (only BPE is implemented)");
        _model = BpeModel.Parse(model, "model", ctx);

        _normalizer = root.TryGetProperty("normalizer", out var n) ? TextNormalizer.Parse(n, "normalizer", ctx) : null;
        _preTokenizer = root.TryGetProperty("pre_tokenizer", out var pt) ? PreTokenizer.Parse(pt, "pre_tokenizer", ctx) : null;
        _postProcessor = root.TryGetProperty("post_processor", out var pp) ? PostProcessor.Parse(pp, "post_processor", ctx) : PostProcessor.None;
        _decoder = root.TryGetProperty("decoder", out var d) ? TokenDecoder.Parse(d, "decoder", ctx) : null;

        _addedById = new Dictionary<int, AddedToken>();
        _addedByContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        if (JsonContext.TryGet(root, "added_tokens", out var added))
        {
            if (added.ValueKind != JsonValueKind.Array) throw ctx.Invalid("added_tokens", "must be an array");
            int i = 0;
            foreach (var t in added.EnumerateArray())
            {
                string p = $"added_tokens[{i++}]";
                var tok = new AddedToken(
                    ctx.RequireInt(t, "id", p),
                    ctx.RequireString(t, "content", p),
                    ctx.OptBool(t, "single_word", p, false),
                    ctx.OptBool(t, "lstrip", p, false),
                    ctx.OptBool(t, "rstrip", p, false),
                    ctx.OptBool(t, "normalized", p, true),
                    ctx.OptBool(t, "special", p, false));
                if (tok.Id < 0) throw ctx.Invalid(p + ".id", "must be non-negative");
                if (tok.Content.Length == 0) throw ctx.Invalid(p + ".content", "must not be empty");
                _addedById[tok.Id] = tok;
                _addedByContent[tok.Content] = tok;
            }
        }
        _rawMatcher = new AddedTokenMatcher(_addedById.Values.Where(t => !t.Normalized).OrderBy(t => t.Id).Select(t => (t.Content, t)));
        _normalizedMatcher = new AddedTokenMatcher(_addedById.Values.Where(t => t.Normalized).OrderBy(t => t.Id)
            .Select(t => (_normalizer?.Normalize(t.Content) ?? t.Content, t)));

        int maxId = -1;
        foreach (var id in _model.IdToToken.Keys) maxId = Math.Max(maxId, id);
        foreach (var id in _addedById.Keys) maxId = Math.Max(maxId, id);
        VocabularySize = maxId + 1;

        foreach (int id in _postProcessor.Prefix.Concat(_postProcessor.Suffix))
            if (id < 0 || id >= VocabularySize) throw ctx.Invalid("post_processor", $"refers to id {id}, which is outside the vocabulary");

        var special = new HashSet<int>(_addedById.Values.Where(t => t.Special).Select(t => t.Id));

        int? bos = null, eos = null;
        if (config is JsonElement cfg)
        {
            var cctx = new JsonContext(configSource);
            if (cfg.ValueKind != JsonValueKind.Object) throw cctx.Invalid("(root)", "must be a JSON object");
            bos = ConfigToken(cfg, "bos_token", cctx, special);
            eos = ConfigToken(cfg, "eos_token", cctx, special);
            ConfigToken(cfg, "unk_token", cctx, special);
            ConfigToken(cfg, "pad_token", cctx, special);
        }
        bos ??= _postProcessor.Prefix.Length > 0 ? _postProcessor.Prefix[0] : null;
        if (bos == null)
        {
            foreach (var name in new[] { "<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>" })
                if (TokenToId(name) is int id) { bos = id; break; }
        }
        eos ??= _postProcessor.Suffix.Length > 0 ? _postProcessor.Suffix[^1] : null;
        if (eos == null)
        {
            foreach (var name in new[] { "</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>", "<|im_end|>" })
                if (TokenToId(name) is int id) { eos = id; break; }
        }
        BosTokenId = bos;
        EosTokenId = eos;
        SpecialTokenIds = special.ToFrozenSet();
    }

    private int? ConfigToken(JsonElement cfg, string field, JsonContext ctx, HashSet<int> special)
    {
        if (!JsonContext.TryGet(cfg, field, out var v)) return null;
        string? content = v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object => ctx.RequireString(v, "content", field),
            _ => throw ctx.Invalid(field, $"must be a string or an object with \"content\" (found {v.ValueKind})"),
        };
        if (string.IsNullOrEmpty(content)) return null;
        int id = TokenToId(content) ?? throw ctx.Invalid(field, $"names \"{content}\", which is not in the tokenizer vocabulary ({_source})");
        special.Add(id);
        return id;
    }

    /// <summary>Loads <c>tokenizer.json</c> and, optionally, <c>tokenizer_config.json</c>.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or an invalid field (the message names the file and field).</exception>
    /// <exception cref="NotSupportedException">A model / normalizer / pre-tokenizer / decoder type that is not implemented.</exception>
    public static Tokenizer FromFile(string tokenizerJsonPath, string? tokenizerConfigPath = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJsonPath);
        string json = File.ReadAllText(tokenizerJsonPath);
        string? config = tokenizerConfigPath != null ? File.ReadAllText(tokenizerConfigPath) : null;
        return Create(json, tokenizerJsonPath, config, tokenizerConfigPath ?? "tokenizer_config.json");
    }

    /// <summary>Builds a tokenizer from the text of <c>tokenizer.json</c> (and optionally <c>tokenizer_config.json</c>).</summary>
    public static Tokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        return Create(tokenizerJson, "tokenizer.json", tokenizerConfigJson, "tokenizer_config.json");
    }

    private static Tokenizer Create(string json, string source, string? configJson, string configSource)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON: {e.Message}", e); }
        using (doc)
        {
            JsonDocument? cfg = null;
            if (configJson != null)
            {
                try { cfg = JsonDocument.Parse(configJson, new JsonDocumentOptions { AllowTrailingCommas = true }); }
                catch (JsonException e) { throw new InvalidDataException($"{configSource}: not valid JSON: {e.Message}", e); }
            }
            using (cfg)
            {
                return new Tokenizer(source, doc.RootElement, cfg?.RootElement, configSource);
            }
        }
    }

    /// <summary>
    /// Encodes <paramref name="text"/> into token ids, like Hugging Face <c>tokenizer.encode(text)</c>:
    /// with <paramref name="addSpecialTokens"/> the post-processor's special tokens (e.g. BOS) are added.
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens) ids.AddRange(_postProcessor.Prefix);
        var words = new List<Piece>();
        foreach (var (start, end, token) in _rawMatcher.Split(text))
        {
            if (token != null) { ids.Add(token.Id); continue; }
            if (end == start) continue;
            string segment = text[start..end];
            string normalized = _normalizer?.Normalize(segment) ?? segment;
            if (normalized.Length == 0) continue;
            foreach (var (s2, e2, tok2) in _normalizedMatcher.Split(normalized))
            {
                if (tok2 != null) { ids.Add(tok2.Id); continue; }
                if (e2 == s2) continue;
                var piece = new Piece(normalized[s2..e2], start == 0 && s2 == 0);
                words.Clear();
                words.Add(piece);
                var pieces = _preTokenizer?.Apply(words) ?? words;
                foreach (var w in pieces) _model.Tokenize(w.Text, ids);
            }
        }
        if (addSpecialTokens) ids.AddRange(_postProcessor.Suffix);
        return ids.ToArray();
    }

    /// <summary>Decodes ids back to text, like Hugging Face <c>tokenizer.decode</c>. Unknown ids are ignored.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            string? t = TokenToString(id);
            if (t == null) continue;
            if (skipSpecialTokens && SpecialTokenIds.Contains(id)) continue;
            tokens.Add(t);
        }
        if (_decoder == null) return string.Join(' ', tokens);
        return string.Concat(_decoder.DecodeChain(tokens));
    }

    /// <summary>The token string for <paramref name="id"/> (added tokens first, then the model vocabulary), or null.</summary>
    public string? TokenToString(int id) =>
        _addedById.TryGetValue(id, out var t) ? t.Content : _model.IdToToken.GetValueOrDefault(id);

    /// <summary>The id of an exact token string (added tokens first, then the model vocabulary), or null.</summary>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _addedByContent.TryGetValue(token, out var t) ? t.Id : _model.TokenToId(token);
    }

    /// <summary>True when <paramref name="id"/> is a special token (skipped by <see cref="Decode"/> when asked).</summary>
    public bool IsSpecial(int id) => SpecialTokenIds.Contains(id);
}
