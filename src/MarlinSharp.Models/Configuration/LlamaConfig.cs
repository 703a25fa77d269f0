using System.Text.Json;

namespace MarlinSharp.Models.Configuration;

/// <summary>RoPE frequency scaling from config.json "rope_parameters" (transformers 5) or "rope_scaling" (earlier versions).</summary>
/// <param name="Type">"llama3" or "linear".</param>
/// <param name="Factor">Scaling factor.</param>
/// <param name="LowFreqFactor">llama3 only.</param>
/// <param name="HighFreqFactor">llama3 only.</param>
/// <param name="OriginalMaxPositionEmbeddings">llama3 only.</param>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1.0, double HighFreqFactor = 4.0, int OriginalMaxPositionEmbeddings = 8192);

/// <summary>Shape and hyper-parameters of a Llama-family model (Llama 2/3, Mistral, Qwen2), from Hugging Face config.json.</summary>
public sealed record LlamaConfig(
    string ModelType,
    int HiddenSize,
    int IntermediateSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int NumKeyValueHeads,
    int HeadDim,
    int VocabSize,
    double RmsNormEps,
    double RopeTheta,
    RopeScaling? RopeScaling,
    int MaxPositionEmbeddings,
    bool TieWordEmbeddings,
    bool AttentionBias,
    IReadOnlyList<int> BosTokenIds,
    IReadOnlyList<int> EosTokenIds,
    string? TorchDtype)
{
    /// <summary>Model types this engine implements.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = ["llama", "mistral", "qwen2"];

    /// <summary>First BOS id, if any.</summary>
    public int? BosTokenId => BosTokenIds.Count > 0 ? BosTokenIds[0] : null;

    /// <summary>Number of query heads sharing one key/value head.</summary>
    public int GroupSize => NumAttentionHeads / NumKeyValueHeads;

    /// <summary>Reads and validates a config.json file.</summary>
    public static LlamaConfig Load(string configJsonPath)
    {
        ArgumentNullException.ThrowIfNull(configJsonPath);
        return Parse(File.ReadAllText(configJsonPath), configJsonPath);
    }

    /// <summary>Parses and validates config.json text; <paramref name="sourceName"/> appears in error messages.</summary>
    /// <exception cref="InvalidDataException">A missing or invalid field (the message names the source and the field).</exception>
    /// <remarks>
    /// RoPE: "rope_parameters" (transformers 5: rope_type, rope_theta, factor, low/high_freq_factor,
    /// original_max_position_embeddings in one object) is preferred when present; otherwise the top-level "rope_theta"
    /// and "rope_scaling" are read. A top-level rope_theta is used only when rope_parameters has none.
    /// </remarks>
    /// <exception cref="NotSupportedException">An unsupported model_type / architecture / rope type.</exception>
    public static LlamaConfig Parse(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        var r = new ConfigReader(json, sourceName);
        var root = r.Root;

        string? modelType = r.OptString(root, "model_type");
        string? arch = null;
        if (root.TryGetProperty("architectures", out var archEl) && archEl.ValueKind == JsonValueKind.Array && archEl.GetArrayLength() > 0)
            arch = archEl[0].ValueKind == JsonValueKind.String ? archEl[0].GetString() : throw r.Invalid("architectures[0]", "must be a string");
        if (modelType == null)
        {
            modelType = arch switch
            {
                "LlamaForCausalLM" => "llama",
                "MistralForCausalLM" => "mistral",
                "Qwen2ForCausalLM" => "qwen2",
                null => throw r.Invalid("model_type", "is missing (and no \"architectures\" entry to infer it from)"),
                _ => throw new NotSupportedException($"{sourceName}: field 'architectures' has value \"{arch}\"; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM"),
            };
        }
        if (!SupportedModelTypes.Contains(modelType))
            throw new NotSupportedException($"{sourceName}: field 'model_type' has value \"{modelType}\"; supported: {string.Join(", ", SupportedModelTypes)}");
        if (arch != null && arch is not ("LlamaForCausalLM" or "MistralForCausalLM" or "Qwen2ForCausalLM"))
            throw new NotSupportedException($"{sourceName}: field 'architectures' has value \"{arch}\"; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM");

        int hidden = r.PositiveInt(root, "hidden_size");
        int inter = r.PositiveInt(root, "intermediate_size");
        int layers = r.PositiveInt(root, "num_hidden_layers");
        int heads = r.PositiveInt(root, "num_attention_heads");
        int kvHeads = r.OptPositiveInt(root, "num_key_value_heads") ?? heads;
        int? headDimOpt = r.OptPositiveInt(root, "head_dim");
        int vocab = r.PositiveInt(root, "vocab_size");
        double eps = r.OptPositiveDouble(root, "rms_norm_eps") ?? 1e-6;
        double theta = r.OptPositiveDouble(root, "rope_theta") ?? 10000.0;
        int maxPos = r.OptPositiveInt(root, "max_position_embeddings") ?? 2048;
        bool tie = r.OptBool(root, "tie_word_embeddings") ?? false;
        bool bias = r.OptBool(root, "attention_bias") ?? (modelType == "qwen2");
        var bos = r.IntOrIntArray(root, "bos_token_id");
        var eos = r.IntOrIntArray(root, "eos_token_id");
        string? dtype = r.OptString(root, "torch_dtype") ?? r.OptString(root, "dtype");

        if (hidden % heads != 0 && headDimOpt == null)
            throw r.Invalid("num_attention_heads", $"({heads}) must divide hidden_size ({hidden}) when head_dim is not given");
        if (heads % kvHeads != 0)
            throw r.Invalid("num_key_value_heads", $"({kvHeads}) must divide num_attention_heads ({heads})");
        int headDim = headDimOpt ?? hidden / heads;
        if (headDim % 2 != 0) throw r.Invalid("head_dim", $"({headDim}) must be even for rotary embeddings");

        // transformers 5 writes "rope_parameters" (rope_type, rope_theta and the scaling fields in one object) instead of
        // the older top-level "rope_theta" plus "rope_scaling". When "rope_parameters" is present it wins: its rope_type
        // decides the scaling, and its rope_theta replaces the top-level one (which is only a fallback when it lacks one).
        RopeScaling? scaling;
        if (root.TryGetProperty("rope_parameters", out var rp) && rp.ValueKind != JsonValueKind.Null)
        {
            if (rp.ValueKind != JsonValueKind.Object) throw r.Invalid("rope_parameters", "must be an object or null");
            if (!rp.TryGetProperty("rope_type", out _) && !rp.TryGetProperty("type", out _) && !rp.TryGetProperty("rope_theta", out _)
                && rp.EnumerateObject().Any(p => p.Value.ValueKind == JsonValueKind.Object))
                throw new NotSupportedException($"{sourceName}: field 'rope_parameters' holds one entry per attention type ({string.Join(", ", rp.EnumerateObject().Select(p => p.Name))}); only a single rope_parameters object is supported");
            theta = r.OptPositiveDouble(rp, "rope_theta", "rope_parameters.rope_theta") ?? theta;
            scaling = ParseRopeScaling(r, rp, "rope_parameters", sourceName, typeRequired: false);
        }
        else if (root.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind != JsonValueKind.Null)
        {
            if (rs.ValueKind != JsonValueKind.Object) throw r.Invalid("rope_scaling", "must be an object or null");
            scaling = ParseRopeScaling(r, rs, "rope_scaling", sourceName, typeRequired: true);
        }
        else
        {
            scaling = null;
        }

        return new LlamaConfig(modelType, hidden, inter, layers, heads, kvHeads, headDim, vocab, eps, theta, scaling, maxPos, tie, bias, bos, eos, dtype);
    }

    /// <summary>The scaling an object with rope_type/type and its factors describes (null for "default").</summary>
    /// <param name="field">"rope_scaling" or "rope_parameters", used in error messages.</param>
    /// <param name="typeRequired">Whether a missing rope_type is an error (rope_scaling) or means "default" (rope_parameters).</param>
    private static RopeScaling? ParseRopeScaling(ConfigReader r, JsonElement obj, string field, string sourceName, bool typeRequired)
    {
        string? type = r.OptString(obj, "rope_type", $"{field}.rope_type") ?? r.OptString(obj, "type", $"{field}.type");
        switch (type)
        {
            case null when typeRequired: throw r.Invalid($"{field}.rope_type", "is missing");
            case null or "default": return null;
            case "linear":
                return new RopeScaling("linear", r.PositiveDouble(obj, "factor", $"{field}.factor"));
            case "llama3":
            {
                double factor = r.PositiveDouble(obj, "factor", $"{field}.factor");
                double low = r.PositiveDouble(obj, "low_freq_factor", $"{field}.low_freq_factor");
                double high = r.PositiveDouble(obj, "high_freq_factor", $"{field}.high_freq_factor");
                int orig = r.PositiveInt(obj, "original_max_position_embeddings", $"{field}.original_max_position_embeddings");
                if (high <= low) throw r.Invalid($"{field}.high_freq_factor", $"({high}) must be greater than low_freq_factor ({low})");
                return new RopeScaling("llama3", factor, low, high, orig);
            }
            default:
                throw new NotSupportedException($"{sourceName}: field '{field}.rope_type' has value \"{type}\"; supported: llama3, linear, default");
        }
    }

    /// <summary>Known shapes for tests and benchmarks without a checkpoint.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["llama2-7b", "llama2-13b", "llama2-70b", "llama3-8b", "tinyllama-1.1b"];

    /// <summary>
    /// A built-in model shape: "llama2-7b", "llama2-13b", "llama2-70b", "llama3-8b", "tinyllama-1.1b".
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name (the message lists the known ones).</exception>
    public static LlamaConfig Preset(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToLowerInvariant() switch
        {
            "llama2-7b" => Llama2(4096, 11008, 32, 32, 32, 4096),
            "llama2-13b" => Llama2(5120, 13824, 40, 40, 40, 4096),
            "llama2-70b" => Llama2(8192, 28672, 80, 64, 8, 4096),
            "tinyllama-1.1b" => Llama2(2048, 5632, 22, 32, 4, 2048) with { RmsNormEps = 1e-5 },
            "llama3-8b" => new LlamaConfig("llama", 4096, 14336, 32, 32, 8, 128, 128256, 1e-5, 500000.0,
                new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), 131072, false, false, [128000], [128001], "bfloat16"),
            _ => throw new ArgumentException($"Unknown model preset \"{name}\". Known presets: {string.Join(", ", PresetNames)}", nameof(name)),
        };

        static LlamaConfig Llama2(int hidden, int inter, int layers, int heads, int kv, int maxPos) =>
            new("llama", hidden, inter, layers, heads, kv, hidden / heads, 32000, 1e-5, 10000.0, null, maxPos, false, false, [1], [2], "float16");
    }
}

/// <summary>Optional generation defaults from generation_config.json.</summary>
public sealed record GenerationConfig(
    int? BosTokenId,
    IReadOnlyList<int> EosTokenIds,
    int? PadTokenId,
    double? Temperature,
    int? TopK,
    double? TopP,
    bool? DoSample,
    int? MaxNewTokens,
    int? MaxLength)
{
    /// <summary>Defaults when no generation_config.json exists.</summary>
    public static GenerationConfig Empty { get; } = new(null, [], null, null, null, null, null, null, null);

    /// <summary>Loads generation_config.json; returns <see cref="Empty"/> when the file does not exist.</summary>
    public static GenerationConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) return Empty;
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses generation_config.json text; errors name <paramref name="sourceName"/> and the field.</summary>
    public static GenerationConfig Parse(string json, string sourceName)
    {
        var r = new ConfigReader(json, sourceName);
        var root = r.Root;
        var bos = r.IntOrIntArray(root, "bos_token_id");
        var pad = r.IntOrIntArray(root, "pad_token_id");
        double? temperature = r.OptDouble(root, "temperature");
        if (temperature < 0) throw r.Invalid("temperature", $"({temperature}) must be >= 0");
        int? topK = r.OptInt(root, "top_k");
        if (topK < 0) throw r.Invalid("top_k", $"({topK}) must be >= 0");
        double? topP = r.OptDouble(root, "top_p");
        if (topP is < 0 or > 1) throw r.Invalid("top_p", $"({topP}) must be in [0, 1]");
        return new GenerationConfig(
            bos.Count > 0 ? bos[0] : null,
            r.IntOrIntArray(root, "eos_token_id"),
            pad.Count > 0 ? pad[0] : null,
            temperature, topK, topP,
            r.OptBool(root, "do_sample"),
            r.OptPositiveInt(root, "max_new_tokens"),
            r.OptPositiveInt(root, "max_length"));
    }
}

/// <summary>Reads config JSON values and reports errors as "source: field 'name' problem".</summary>
internal sealed class ConfigReader
{
    private readonly string _source;
    public JsonElement Root { get; }

    public ConfigReader(string json, string source)
    {
        _source = source;
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            Root = doc.RootElement.Clone();
        }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON: {e.Message}", e); }
        if (Root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: the top level must be a JSON object");
    }

    public InvalidDataException Invalid(string field, string problem) => new($"{_source}: field '{field}' {problem}");

    private static bool TryGet(JsonElement obj, string name, out JsonElement v) =>
        obj.TryGetProperty(name, out v) && v.ValueKind != JsonValueKind.Null;

    public string? OptString(JsonElement obj, string name, string? path = null)
    {
        if (!TryGet(obj, name, out var v)) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Invalid(path ?? name, $"must be a string (found {v.GetRawText()})");
    }

    public bool? OptBool(JsonElement obj, string name, string? path = null)
    {
        if (!TryGet(obj, name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(path ?? name, $"must be true or false (found {v.GetRawText()})"),
        };
    }

    public int? OptInt(JsonElement obj, string name, string? path = null)
    {
        if (!TryGet(obj, name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
        throw Invalid(path ?? name, $"must be an integer (found {v.GetRawText()})");
    }

    public int? OptPositiveInt(JsonElement obj, string name, string? path = null)
    {
        int? i = OptInt(obj, name, path);
        if (i is <= 0) throw Invalid(path ?? name, $"must be positive (found {i})");
        return i;
    }

    public int PositiveInt(JsonElement obj, string name, string? path = null) =>
        OptPositiveInt(obj, name, path) ?? throw Invalid(path ?? name, "is missing");

    public double? OptDouble(JsonElement obj, string name, string? path = null)
    {
        if (!TryGet(obj, name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d)) return d;
        throw Invalid(path ?? name, $"must be a number (found {v.GetRawText()})");
    }

    public double? OptPositiveDouble(JsonElement obj, string name, string? path = null)
    {
        double? d = OptDouble(obj, name, path);
        if (d is <= 0) throw Invalid(path ?? name, $"must be positive (found {d})");
        return d;
    }

    public double PositiveDouble(JsonElement obj, string name, string? path = null) =>
        OptPositiveDouble(obj, name, path) ?? throw Invalid(path ?? name, "is missing");

    public IReadOnlyList<int> IntOrIntArray(JsonElement obj, string name)
    {
        if (!TryGet(obj, name, out var v)) return [];
        if (v.ValueKind == JsonValueKind.Number)
        {
            if (v.TryGetInt32(out int i) && i >= 0) return [i];
            throw Invalid(name, $"must be a non-negative integer or an array of them (found {v.GetRawText()})");
        }
        if (v.ValueKind == JsonValueKind.Array)
        {
            var list = new List<int>();
            int k = 0;
            foreach (var x in v.EnumerateArray())
            {
                if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt32(out int i) || i < 0)
                    throw Invalid($"{name}[{k}]", $"must be a non-negative integer (found {x.GetRawText()})");
                list.Add(i);
                k++;
            }
            return list;
        }
        throw Invalid(name, $"must be an integer or an array of integers (found {v.GetRawText()})");
    }
}
