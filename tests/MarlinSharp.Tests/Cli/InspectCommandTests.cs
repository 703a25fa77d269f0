using System.Text.Json.Nodes;
using MarlinSharp.IO;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Tests.Engine;

namespace MarlinSharp.Tests.Cli;

public class InspectCommandTests
{
    [Fact]
    public void SafetensorsFileListsNameDtypeShapeAndMetadata()
    {
        using var dir = new TempDir();
        string path = dir.File("small.safetensors");
        SafeTensorsWriter.Write(path,
        [
            SafeTensorsWriter.Entry("layer.weight", [2, 3], new Half[6]),
            SafeTensorsWriter.Entry("layer.bias", [3], new float[3]),
            SafeTensorsWriter.Entry("scalar", [], new int[1]),
        ], new Dictionary<string, string> { ["format"] = "pt", ["note"] = "hello" });

        var r = CliRunner.Run("inspect", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Err);
        var lines = r.Out.Split('\n');
        Assert.Contains($"file {path}", lines);
        Assert.Contains("metadata format = pt", lines);
        Assert.Contains("metadata note = hello", lines);
        Assert.Contains(lines, l => l.StartsWith("name ", StringComparison.Ordinal) && l.Contains("dtype") && l.Contains("shape"));
        Assert.Contains("layer.weight  F16    [2, 3]", lines);
        Assert.Contains("layer.bias    F32    [3]", lines);
        Assert.Contains("scalar        I32    []", lines);
        Assert.Contains(lines, l => l.Contains("total") && l.Contains(" 3 tensors") && l.Contains("in 1 file"));
    }

    [Fact]
    public void ModelFolderShowsConfigSummaryAndTensorSummary()
    {
        using var dir = new TempDir();
        var config = TinyModel.Write(dir.Path, TinyModel.ConfigJson(hidden: 64, inter: 128, layers: 1, heads: 4, kvHeads: 2, vocab: 96, maxPos: 256), seed: 1);
        int tensorCount;
        using (var file = SafeTensorsFile.Open(dir.File("model.safetensors"))) tensorCount = file.Tensors.Count;

        var r = CliRunner.Run("inspect", dir.Path);
        Assert.Equal(0, r.ExitCode);
        string o = r.Out;
        Assert.Contains("architecture   LlamaForCausalLM (model_type llama)", o);
        Assert.Contains("hidden         64 (intermediate 128)", o);
        Assert.Contains("layers         1", o);
        Assert.Contains("heads          4 (kv heads 2, head_dim 16)", o);
        Assert.Contains("vocab          96", o);
        Assert.Contains("rope           theta 10000", o);
        Assert.Contains("context        256 (max_position_embeddings)", o);
        Assert.Contains($"F16   {tensorCount,6} tensors", o);
        Assert.Contains("model.embed_tokens.weight", o);
        // One layer has 9 tensors plus embedding, norm and lm_head: all under the default listing limit.
        Assert.Equal(config.NumHiddenLayers * 9 + 3, tensorCount);
        Assert.DoesNotContain("more (--all", o);
    }

    [Fact]
    public void ShardedFolderListsEveryShardAndAllWithAll()
    {
        using var dir = new TempDir();
        string configJson = TinyModel.ConfigJson(hidden: 64, inter: 128, layers: 4, heads: 4, kvHeads: 2, vocab: 96);
        File.WriteAllText(dir.File("config.json"), configJson);
        var config = LlamaConfig.Parse(configJson, "config.json");
        var tensors = TinyModel.Tensors(config, seed: 2);
        var first = tensors.Take(tensors.Count / 2).ToList();
        var second = tensors.Skip(tensors.Count / 2).ToList();
        SafeTensorsWriter.Write(dir.File("model-00001-of-00002.safetensors"), first);
        SafeTensorsWriter.Write(dir.File("model-00002-of-00002.safetensors"), second);
        var map = new JsonObject();
        foreach (var t in first) map[t.Name] = "model-00001-of-00002.safetensors";
        foreach (var t in second) map[t.Name] = "model-00002-of-00002.safetensors";
        File.WriteAllText(dir.File("model.safetensors.index.json"), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map }.ToJsonString());

        var r = CliRunner.Run("inspect", dir.Path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("files          model-00001-of-00002.safetensors, model-00002-of-00002.safetensors", r.Out);
        Assert.Contains($"total {tensors.Count,6} tensors", r.Out);
        Assert.Contains("in 2 files", r.Out);
        Assert.Contains($"... {tensors.Count - 20} more (--all lists every tensor)", r.Out);
        Assert.DoesNotContain(second[^1].Name + " ", r.Out);

        var all = CliRunner.Run("inspect", "--all", dir.Path);
        Assert.Equal(0, all.ExitCode);
        foreach (var t in tensors) Assert.Contains(t.Name, all.Out);
        Assert.Contains(all.Out.Split('\n'), l => l.StartsWith(second[^1].Name, StringComparison.Ordinal) && l.EndsWith("model-00002-of-00002.safetensors", StringComparison.Ordinal));
        Assert.DoesNotContain("more (--all", all.Out);
    }

    [Fact]
    public void UnsupportedArchitectureStillListsTensors()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("config.json"), """{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}""");
        SafeTensorsWriter.Write(dir.File("model.safetensors"), [SafeTensorsWriter.Entry("wte.weight", [4, 2], new Half[8])]);
        var r = CliRunner.Run("inspect", dir.Path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("not a model this engine runs", r.Out);
        Assert.Contains("gpt2", r.Out);
        Assert.Contains("wte.weight", r.Out);
    }

    [Fact]
    public void MissingPathIsOneLineNamingIt()
    {
        using var dir = new TempDir();
        string missing = dir.File("missing.safetensors");
        CliRunner.Run("inspect", missing).AssertOneLineError(missing, "does not exist");
    }

    [Fact]
    public void CorruptSafetensorsIsOneLineNamingTheFile()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        // A header length far beyond the file.
        File.WriteAllBytes(path, [0xFF, 0xFF, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}']);
        CliRunner.Run("inspect", path).AssertOneLineError(path, "Invalid safetensors file");

        // Valid header length, truncated data.
        string truncated = dir.File("truncated.safetensors");
        SafeTensorsWriter.Write(truncated, [SafeTensorsWriter.Entry("w", [64], new float[64])]);
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..^16]);
        CliRunner.Run("inspect", truncated).AssertOneLineError(truncated);
    }

    [Fact]
    public void FolderWithoutWeightsOrWithAMissingShardIsOneLine()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("config.json"), TinyModel.ConfigJson());
        CliRunner.Run("inspect", dir.Path).AssertOneLineError(dir.Path, "no .safetensors");

        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"weight_map": {"a": "model-00001-of-00002.safetensors"}}""");
        CliRunner.Run("inspect", dir.Path).AssertOneLineError("model-00001-of-00002.safetensors", "model.safetensors.index.json");
    }

    [Fact]
    public void CorruptConfigIsOneLineNamingTheFileAndField()
    {
        using var dir = new TempDir();
        TinyModel.Write(dir.Path, TinyModel.ConfigJson(), seed: 3);
        File.WriteAllText(dir.File("config.json"), TinyModel.ConfigJson().Replace("\"hidden_size\": 128", "\"hidden_size\": \"big\""));
        CliRunner.Run("inspect", dir.Path).AssertOneLineError("config.json", "hidden_size");
    }
}
