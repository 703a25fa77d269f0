using MarlinSharp.IO;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "marlinsharp-ckpt-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public void ExpectedNamesAndShapesFollowTheConfig()
    {
        var c = LlamaConfig.Parse(TinyModel.ConfigJson(hidden: 128, inter: 256, layers: 2, heads: 4, kvHeads: 2, vocab: 256), "config.json");
        var names = LlamaTensorNames.For(c).ToDictionary(e => e.Name);
        Assert.Equal([256L, 128], names["model.embed_tokens.weight"].Shape);
        Assert.Equal([128L, 128], names["model.layers.1.self_attn.q_proj.weight"].Shape);
        Assert.Equal([64L, 128], names["model.layers.1.self_attn.k_proj.weight"].Shape);
        Assert.Equal([128L, 256], names["model.layers.0.mlp.down_proj.weight"].Shape);
        Assert.False(names["lm_head.weight"].Optional);
        Assert.DoesNotContain("model.layers.0.self_attn.q_proj.bias", names.Keys);

        var qwen = LlamaConfig.Parse(TinyModel.ConfigJson(modelType: "qwen2", tie: true), "config.json");
        var q = LlamaTensorNames.For(qwen).ToDictionary(e => e.Name);
        Assert.Equal([64L], q["model.layers.0.self_attn.v_proj.bias"].Shape);
        Assert.True(q["lm_head.weight"].Optional);
    }

    [Theory]
    [InlineData(SafeTensorDType.F16)]
    [InlineData(SafeTensorDType.BF16)]
    [InlineData(SafeTensorDType.F32)]
    public void OpensAndConvertsToHalf(SafeTensorDType dtype)
    {
        TinyModel.Write(_dir, TinyModel.ConfigJson(), seed: 1, dtype);
        using var ck = LlamaCheckpoint.Open(_dir);
        Assert.Equal(2, ck.Config.NumHiddenLayers);
        Half[] norm = ck.ReadHalf("model.norm.weight");
        Assert.Equal(128, norm.Length);
        Assert.All(norm, h => Assert.InRange((float)h, 0.79f, 1.21f));
        var qkv = ck.ReadConcatenated(["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight"]);
        Assert.Equal((128 + 64 + 64) * 128, qkv.Length);
        Assert.Equal(ck.ReadHalf("model.layers.0.self_attn.k_proj.weight")[5], qkv[128 * 128 + 5]);
    }

    [Fact]
    public void ShardedIndexIsFollowed()
    {
        var c = LlamaConfig.Parse(TinyModel.ConfigJson(), "config.json");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "config.json"), TinyModel.ConfigJson());
        var all = TinyModel.Tensors(c, 2);
        var first = all.Where(t => !t.Name.Contains("layers.1", StringComparison.Ordinal)).ToList();
        var second = all.Where(t => t.Name.Contains("layers.1", StringComparison.Ordinal)).ToList();
        SafeTensorsWriter.Write(Path.Combine(_dir, "model-00001-of-00002.safetensors"), first);
        SafeTensorsWriter.Write(Path.Combine(_dir, "model-00002-of-00002.safetensors"), second);
        var map = first.Select(t => $"\"{t.Name}\": \"model-00001-of-00002.safetensors\"")
            .Concat(second.Select(t => $"\"{t.Name}\": \"model-00002-of-00002.safetensors\""));
        File.WriteAllText(Path.Combine(_dir, LlamaCheckpoint.IndexFile), "{\"metadata\": {}, \"weight_map\": {" + string.Join(",", map) + "}}");

        using var ck = LlamaCheckpoint.Open(_dir);
        Assert.Equal(128 * 256, ck.ReadHalf("model.layers.1.mlp.up_proj.weight").Length / 1);
    }

    [Fact]
    public void MissingTensorErrorNamesTensorAndFile()
    {
        var c = LlamaConfig.Parse(TinyModel.ConfigJson(), "config.json");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "config.json"), TinyModel.ConfigJson());
        SafeTensorsWriter.Write(Path.Combine(_dir, "model.safetensors"), TinyModel.Tensors(c, 3, include: n => n != "model.layers.1.mlp.up_proj.weight"));
        var e = Assert.Throws<InvalidDataException>(() => LlamaCheckpoint.Open(_dir));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void MisShapedTensorErrorNamesBothShapes()
    {
        // Write weights for 4 kv heads, then claim 2 in config.json: k_proj is [128, 128] instead of [64, 128].
        var wrong = LlamaConfig.Parse(TinyModel.ConfigJson(kvHeads: 4), "config.json");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "config.json"), TinyModel.ConfigJson(kvHeads: 2));
        SafeTensorsWriter.Write(Path.Combine(_dir, "model.safetensors"), TinyModel.Tensors(wrong, 4));
        var e = Assert.Throws<InvalidDataException>(() => LlamaCheckpoint.Open(_dir));
        Assert.Contains("model.layers.0.self_attn.k_proj.weight", e.Message);
        Assert.Contains("[128, 128]", e.Message);
        Assert.Contains("[64, 128]", e.Message);
    }

    [Fact]
    public void WrongDtypeAndMissingFilesAreClear()
    {
        Directory.CreateDirectory(_dir);
        var e1 = Assert.Throws<FileNotFoundException>(() => LlamaCheckpoint.Open(_dir));
        Assert.Contains("config.json", e1.Message);
        File.WriteAllText(Path.Combine(_dir, "config.json"), TinyModel.ConfigJson());
        var e2 = Assert.Throws<FileNotFoundException>(() => LlamaCheckpoint.Open(_dir));
        Assert.Contains("model.safetensors", e2.Message);

        var c = LlamaConfig.Parse(TinyModel.ConfigJson(), "config.json");
        var tensors = TinyModel.Tensors(c, 5).Select(t => t.Name == "model.norm.weight"
            ? SafeTensorsWriter.Entry(t.Name, t.Shape, new int[128]) : t).ToList();
        SafeTensorsWriter.Write(Path.Combine(_dir, "model.safetensors"), tensors);
        var e3 = Assert.Throws<InvalidDataException>(() => LlamaCheckpoint.Open(_dir));
        Assert.Contains("model.norm.weight", e3.Message);
        Assert.Contains("I32", e3.Message);

        File.WriteAllText(Path.Combine(_dir, LlamaCheckpoint.IndexFile), "{\"weight_map\": {\"model.norm.weight\": \"../evil.safetensors\"}}");
        Assert.Contains("plain file name", Assert.Throws<InvalidDataException>(() => LlamaCheckpoint.Open(_dir)).Message);
    }

    [Fact]
    public void Int4NeedsKernelFriendlyShapes()
    {
        var ok = LlamaConfig.Parse(TinyModel.ConfigJson(hidden: 128, inter: 256), "config.json");
        LlamaWeights.ValidateFormat(ok, LinearFormat.Int4);
        var bad = LlamaConfig.Parse(TinyModel.ConfigJson(hidden: 256, inter: 688, heads: 8, kvHeads: 4), "config.json");
        LlamaWeights.ValidateFormat(bad, LinearFormat.Fp16);
        var e = Assert.Throws<NotSupportedException>(() => LlamaWeights.ValidateFormat(bad, LinearFormat.Int4));
        Assert.Contains("gate_up_proj", e.Message);
        Assert.Contains("1376", e.Message);
    }
}
