using System.Text.Json.Nodes;
using MarlinSharp.Models.Configuration;

namespace MarlinSharp.Tests.Configuration;

public class LlamaConfigTests
{
    internal const string Llama2 = """
    {
      "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
      "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008, "max_position_embeddings": 4096,
      "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
      "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null, "tie_word_embeddings": false,
      "torch_dtype": "float16", "transformers_version": "4.31.0.dev0", "use_cache": true, "vocab_size": 32000
    }
    """;

    internal const string Llama31 = """
    {
      "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
      "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu", "hidden_size": 4096,
      "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 131072, "mlp_bias": false,
      "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
      "pretraining_tp": 1, "rms_norm_eps": 1e-05,
      "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
      "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 128256
    }
    """;

    internal const string Mistral = """
    {
      "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
      "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
      "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
      "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "sliding_window": null, "tie_word_embeddings": false,
      "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 32768
    }
    """;

    internal const string Qwen2 = """
    {
      "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645,
      "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864,
      "max_position_embeddings": 32768, "max_window_layers": 21, "model_type": "qwen2", "num_attention_heads": 14,
      "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
      "sliding_window": 32768, "tie_word_embeddings": true, "dtype": "bfloat16", "use_cache": true,
      "use_sliding_window": false, "vocab_size": 151936
    }
    """;

    [Fact]
    public void ParsesLlama2()
    {
        var c = LlamaConfig.Parse(Llama2, "llama2/config.json");
        Assert.Equal("llama", c.ModelType);
        Assert.Equal((4096, 11008, 32, 32, 32, 128, 32000), (c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.VocabSize));
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.Equal(10000.0, c.RopeTheta);
        Assert.Null(c.RopeScaling);
        Assert.Equal(4096, c.MaxPositionEmbeddings);
        Assert.False(c.TieWordEmbeddings);
        Assert.False(c.AttentionBias);
        Assert.Equal([1], c.BosTokenIds);
        Assert.Equal([2], c.EosTokenIds);
        Assert.Equal("float16", c.TorchDtype);
        var preset = LlamaConfig.Preset("llama2-7b");
        Assert.Equal((preset.HiddenSize, preset.IntermediateSize, preset.NumHiddenLayers, preset.NumAttentionHeads, preset.NumKeyValueHeads, preset.VocabSize),
            (c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.VocabSize));
    }

    [Fact]
    public void ParsesLlama31WithRopeScaling()
    {
        var c = LlamaConfig.Parse(Llama31, "llama3/config.json");
        Assert.Equal(8, c.NumKeyValueHeads);
        Assert.Equal(4, c.GroupSize);
        Assert.Equal(500000.0, c.RopeTheta);
        Assert.Equal(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), c.RopeScaling);
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds);
        Assert.Equal(128000, c.BosTokenId);
        Assert.Equal(131072, c.MaxPositionEmbeddings);
        Assert.Equal("bfloat16", c.TorchDtype);
        var preset = LlamaConfig.Preset("llama3-8b");
        Assert.Equal((c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.VocabSize, c.RopeTheta, c.RopeScaling),
            (preset.HiddenSize, preset.IntermediateSize, preset.NumHiddenLayers, preset.NumAttentionHeads, preset.NumKeyValueHeads, preset.VocabSize, preset.RopeTheta, preset.RopeScaling));
    }

    [Fact]
    public void ParsesMistralAndQwen2()
    {
        var m = LlamaConfig.Parse(Mistral, "mistral/config.json");
        Assert.Equal(("mistral", 8, 1000000.0, 32768, false), (m.ModelType, m.NumKeyValueHeads, m.RopeTheta, m.VocabSize, m.AttentionBias));
        var q = LlamaConfig.Parse(Qwen2, "qwen2/config.json");
        Assert.Equal("qwen2", q.ModelType);
        Assert.True(q.AttentionBias);
        Assert.True(q.TieWordEmbeddings);
        Assert.Equal(64, q.HeadDim);
        Assert.Equal(2, q.NumKeyValueHeads);
        Assert.Equal(1e-6, q.RmsNormEps);
        Assert.Equal("bfloat16", q.TorchDtype);
        Assert.Equal([151645], q.EosTokenIds);
    }

    [Fact]
    public void DefaultsAndLinearScaling()
    {
        var c = LlamaConfig.Parse("""
            {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 4, "vocab_size": 100, "head_dim": 32, "rope_scaling": {"type": "linear", "factor": 2.0}}
            """, "tiny");
        Assert.Equal(4, c.NumKeyValueHeads);
        Assert.Equal(32, c.HeadDim);
        Assert.Equal(10000.0, c.RopeTheta);
        Assert.Equal("linear", c.RopeScaling!.Type);
        Assert.Equal(2.0, c.RopeScaling.Factor);
        Assert.Empty(c.EosTokenIds);
    }

    [Fact]
    public void LoadsFromFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cfg-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, Qwen2.Replace("\"hidden_size\": 896", "\"hidden_size\": -1"));
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("'hidden_size'", e.Message);
        }
        finally { File.Delete(path); }
    }

    public static TheoryData<string, string, string?, Type> InvalidCases() => new()
    {
        { "hidden_size", "0", null, typeof(InvalidDataException) },
        { "hidden_size", "\"4096\"", null, typeof(InvalidDataException) },
        { "intermediate_size", "-5", null, typeof(InvalidDataException) },
        { "num_hidden_layers", "null", "num_hidden_layers", typeof(InvalidDataException) },
        { "num_attention_heads", "30", null, typeof(InvalidDataException) },
        { "num_key_value_heads", "5", null, typeof(InvalidDataException) },
        { "vocab_size", "1.5", null, typeof(InvalidDataException) },
        { "rms_norm_eps", "-1e-5", null, typeof(InvalidDataException) },
        { "rope_theta", "\"big\"", null, typeof(InvalidDataException) },
        { "rope_scaling", "{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0}", "rope_scaling.original_max_position_embeddings", typeof(InvalidDataException) },
        { "rope_scaling", "{\"rope_type\": \"yarn\", \"factor\": 4.0}", "rope_scaling.rope_type", typeof(NotSupportedException) },
        { "rope_scaling", "[1, 2]", null, typeof(InvalidDataException) },
        { "eos_token_id", "[128001, \"x\"]", "eos_token_id[1]", typeof(InvalidDataException) },
        { "bos_token_id", "true", null, typeof(InvalidDataException) },
        { "model_type", "\"gemma\"", null, typeof(NotSupportedException) },
        { "architectures", "[\"GemmaForCausalLM\"]", null, typeof(NotSupportedException) },
        { "tie_word_embeddings", "\"no\"", null, typeof(InvalidDataException) },
        { "head_dim", "33", null, typeof(InvalidDataException) },
        { "max_position_embeddings", "0", null, typeof(InvalidDataException) },
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void InvalidFieldErrorNamesFileAndField(string field, string valueJson, string? expectedField, Type exceptionType)
    {
        var doc = JsonNode.Parse(Llama31)!.AsObject();
        doc[field] = JsonNode.Parse(valueJson);
        if (valueJson == "null") doc.Remove(field);
        var e = Assert.Throws(exceptionType, () => LlamaConfig.Parse(doc.ToJsonString(), "models/x/config.json"));
        Assert.Contains("models/x/config.json", e.Message);
        Assert.Contains($"'{expectedField ?? field}'", e.Message);
    }

    [Fact]
    public void Presets()
    {
        var t = LlamaConfig.Preset("tinyllama-1.1b");
        Assert.Equal((2048, 5632, 22, 32, 4, 64, 32000), (t.HiddenSize, t.IntermediateSize, t.NumHiddenLayers, t.NumAttentionHeads, t.NumKeyValueHeads, t.HeadDim, t.VocabSize));
        var b = LlamaConfig.Preset("llama2-70b");
        Assert.Equal((8192, 28672, 80, 64, 8, 32000), (b.HiddenSize, b.IntermediateSize, b.NumHiddenLayers, b.NumAttentionHeads, b.NumKeyValueHeads, b.VocabSize));
        var m = LlamaConfig.Preset("llama2-13b");
        Assert.Equal((5120, 13824, 40, 40, 40), (m.HiddenSize, m.IntermediateSize, m.NumHiddenLayers, m.NumAttentionHeads, m.NumKeyValueHeads));
        var e = Assert.Throws<ArgumentException>(() => LlamaConfig.Preset("gpt-5"));
        Assert.Contains("llama2-7b", e.Message);
        Assert.Contains("tinyllama-1.1b", e.Message);
    }
}

public class GenerationConfigTests
{
    [Fact]
    public void ParsesEosArrayAndSampling()
    {
        var g = GenerationConfig.Parse("""
            {"bos_token_id": 128000, "do_sample": true, "eos_token_id": [128001, 128008, 128009],
             "temperature": 0.6, "top_p": 0.9, "top_k": 50, "max_new_tokens": 256, "transformers_version": "4.42.3"}
            """, "generation_config.json");
        Assert.Equal(128000, g.BosTokenId);
        Assert.Equal([128001, 128008, 128009], g.EosTokenIds);
        Assert.Equal(0.6, g.Temperature);
        Assert.Equal(0.9, g.TopP);
        Assert.Equal(50, g.TopK);
        Assert.True(g.DoSample);
        Assert.Equal(256, g.MaxNewTokens);
        Assert.Null(g.PadTokenId);
        Assert.Null(g.MaxLength);
    }

    [Fact]
    public void MissingFileIsEmptyAndBadValuesNameField()
    {
        var g = GenerationConfig.Load(Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.json"));
        Assert.Same(GenerationConfig.Empty, g);
        var e = Assert.Throws<InvalidDataException>(() => GenerationConfig.Parse("""{"top_p": 1.5}""", "gen.json"));
        Assert.Contains("gen.json", e.Message);
        Assert.Contains("'top_p'", e.Message);
        Assert.Contains("'eos_token_id'", Assert.Throws<InvalidDataException>(() => GenerationConfig.Parse("""{"eos_token_id": "2"}""", "gen.json")).Message);
    }
}
