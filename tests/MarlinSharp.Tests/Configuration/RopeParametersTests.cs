using MarlinSharp.Models.Configuration;

namespace MarlinSharp.Tests.Configuration;

/// <summary>transformers 5 writes "rope_parameters" instead of top-level "rope_theta" and "rope_scaling".</summary>
public class RopeParametersTests
{
    private static string Config(string rope) => $$"""
    {
      "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
      "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
      "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "bos_token_id": 128000, "eos_token_id": 128001{{rope}},
      "transformers_version": "5.0.0"
    }
    """;

    [Fact]
    public void Llama3RopeParameters()
    {
        var c = LlamaConfig.Parse(Config("""
            , "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
            """), "config.json");
        Assert.Equal(500000.0, c.RopeTheta);
        Assert.Equal(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), c.RopeScaling);
    }

    [Fact]
    public void DefaultRopeParametersHaveOnlyTheta()
    {
        var c = LlamaConfig.Parse(Config(""", "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}"""), "config.json");
        Assert.Equal(1000000.0, c.RopeTheta);
        Assert.Null(c.RopeScaling);
        // No rope_type means default too.
        Assert.Null(LlamaConfig.Parse(Config(""", "rope_parameters": {"rope_theta": 10000.0}"""), "config.json").RopeScaling);
    }

    [Fact]
    public void LinearRopeParameters()
    {
        var c = LlamaConfig.Parse(Config(""", "rope_parameters": {"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0}"""), "config.json");
        Assert.Equal(new RopeScaling("linear", 2.0), c.RopeScaling);
        Assert.Equal(10000.0, c.RopeTheta);
    }

    [Fact]
    public void RopeParametersWinOverTopLevelFields()
    {
        var c = LlamaConfig.Parse(Config("""
            , "rope_theta": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 4.0},
            "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
            """), "config.json");
        Assert.Equal(500000.0, c.RopeTheta);
        Assert.Equal("llama3", c.RopeScaling!.Type);

        // "default" in rope_parameters overrides a stale top-level rope_scaling as well.
        var d = LlamaConfig.Parse(Config(""", "rope_scaling": {"rope_type": "linear", "factor": 4.0}, "rope_parameters": {"rope_type": "default", "rope_theta": 20000.0}"""), "config.json");
        Assert.Null(d.RopeScaling);
        Assert.Equal(20000.0, d.RopeTheta);
    }

    [Fact]
    public void TopLevelThetaIsTheFallbackWhenRopeParametersHasNone()
    {
        var c = LlamaConfig.Parse(Config(""", "rope_theta": 250000.0, "rope_parameters": {"rope_type": "linear", "factor": 2.0}"""), "config.json");
        Assert.Equal(250000.0, c.RopeTheta);
        Assert.Equal(10000.0, LlamaConfig.Parse(Config(""", "rope_parameters": {"rope_type": "default"}"""), "config.json").RopeTheta);
    }

    [Fact]
    public void OlderFormStillWorksAndNullRopeParametersIsIgnored()
    {
        var c = LlamaConfig.Parse(LlamaConfigTests.Llama31, "config.json");
        Assert.Equal(500000.0, c.RopeTheta);
        Assert.Equal(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), c.RopeScaling);
        var n = LlamaConfig.Parse(Config(""", "rope_theta": 300000.0, "rope_parameters": null"""), "config.json");
        Assert.Equal(300000.0, n.RopeTheta);
        Assert.Null(n.RopeScaling);
    }

    [Theory]
    [InlineData("""{"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}""", "rope_parameters.original_max_position_embeddings")]
    [InlineData("""{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 4.0, "high_freq_factor": 1.0, "original_max_position_embeddings": 8192}""", "rope_parameters.high_freq_factor")]
    [InlineData("""{"rope_type": "linear"}""", "rope_parameters.factor")]
    [InlineData("""{"rope_type": "default", "rope_theta": -1}""", "rope_parameters.rope_theta")]
    [InlineData("""{"rope_type": 3}""", "rope_parameters.rope_type")]
    [InlineData("""[1, 2]""", "rope_parameters")]
    public void InvalidRopeParametersNameTheField(string rope, string field)
    {
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.Parse(Config($", \"rope_parameters\": {rope}"), "m/config.json"));
        Assert.Contains("m/config.json", e.Message);
        Assert.Contains($"'{field}'", e.Message);
    }

    [Fact]
    public void UnsupportedRopeTypesNameTheField()
    {
        var e = Assert.Throws<NotSupportedException>(() => LlamaConfig.Parse(Config(""", "rope_parameters": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0}"""), "config.json"));
        Assert.Contains("'rope_parameters.rope_type'", e.Message);
        Assert.Contains("yarn", e.Message);
        var perType = Assert.Throws<NotSupportedException>(() => LlamaConfig.Parse(Config("""
            , "rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 1000000.0}, "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}
            """), "config.json"));
        Assert.Contains("full_attention", perType.Message);
    }
}
