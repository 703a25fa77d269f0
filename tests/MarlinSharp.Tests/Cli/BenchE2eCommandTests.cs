using MarlinSharp.Cli.Commands;
using MarlinSharp.Cli.Engine;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Cli;

public class BenchE2eCommandTests
{
    [Fact]
    public void UnknownShapeListsTheKnownOnes()
    {
        CliRunner.Run("bench", "e2e", "--shape", "llama9-1t").AssertOneLineError("--shape", "llama9-1t", "llama2-7b", "llama3-8b", "llama2-70b");
    }

    [Fact]
    public void BadBatchListsNameTheOptionAndItem()
    {
        CliRunner.Run("bench", "e2e", "--batch", "1,two,4").AssertOneLineError("--batch", "'two'");
        CliRunner.Run("bench", "e2e", "--batch", "1,,4").AssertOneLineError("--batch", "''");
        CliRunner.Run("bench", "e2e", "--batch", "0").AssertOneLineError("--batch", "'0'");
        CliRunner.Run("bench", "e2e", "--batch", "8,8").AssertOneLineError("--batch", "twice");
    }

    [Fact]
    public void OtherOptionErrors()
    {
        CliRunner.Run("bench", "e2e", "--output", "1").AssertOneLineError("--output", "at least 2");
        CliRunner.Run("bench", "e2e", "--input", "0").AssertOneLineError("--input");
        CliRunner.Run("bench", "e2e", "--layers", "0").AssertOneLineError("--layers");
        CliRunner.Run("bench", "e2e", "--shape", "llama2-7b", "--model", "x").AssertOneLineError("--shape", "--model");
        CliRunner.Run("bench", "e2e", "--model", "x", "--layers", "2").AssertOneLineError("--layers");
        CliRunner.Run("bench", "e2e", "--input", "4000", "--output", "200").AssertOneLineError("--input", "4096");
        CliRunner.Run("bench", "e2e", "--bogus").AssertOneLineError("--bogus");
    }

    [Fact]
    public void MissingModelFolderIsNamed()
    {
        using var dir = new TempDir();
        CliRunner.Run("bench", "e2e", "--model", dir.File("none")).AssertOneLineError(dir.File("none"));
    }

    [Fact]
    public void ParsesDefaultsAndLayerOverride()
    {
        var r = E2eRequest.Parse(null, null, null, 64, 64, null);
        Assert.Equal("llama2-7b", r.ShapeName);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64], r.Batches);
        Assert.Equal(32, r.Config!.NumHiddenLayers);
        var small = E2eRequest.Parse("LLAMA3-8B", null, "1, 16", 32, 16, 4);
        Assert.Equal(4, small.Config!.NumHiddenLayers);
        Assert.Equal(128256, small.Config.VocabSize);
        Assert.Equal([1, 16], small.Batches);
    }

    [Fact]
    public void WeightEstimateMatchesLlama2_7bParameterCount()
    {
        var c = LlamaConfig.Preset("llama2-7b");
        Assert.Equal(2L * 6_738_415_616, LlamaWeights.EstimateDeviceBytes(c, LinearFormat.Fp16));
        long int4 = LlamaWeights.EstimateDeviceBytes(c, LinearFormat.Int4);
        // Projections shrink about 3.8x (4 bits plus one FP16 scale per 128 weights); embedding and LM head stay FP16.
        long embeddings = 2L * 2 * 32000 * 4096;
        double projectionRatio = (2.0 * 6_738_415_616 - embeddings) / (int4 - embeddings);
        Assert.InRange(projectionRatio, 3.7, 3.9);
    }

    [Fact]
    public void MemoryCheckSuggestsALayerCountThatFits()
    {
        var c = LlamaConfig.Preset("llama2-70b");
        long free = 80_000_000_000;
        var e = Assert.Throws<InvalidOperationException>(() => E2eBenchmark.CheckFits("llama2-70b", c, LinearFormat.Fp16, 64, 64, 64, free, layersAdjustable: true));
        Assert.Contains("llama2-70b in FP16 with 80 layers needs about", e.Message);
        Assert.Contains("GB are free", e.Message);
        var m = System.Text.RegularExpressions.Regex.Match(e.Message, @"--layers (\d+)");
        Assert.True(m.Success, e.Message);
        int layers = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(layers, 30, 79);
        E2eBenchmark.CheckFits("llama2-70b", c with { NumHiddenLayers = layers }, LinearFormat.Fp16, 64, 64, 64, free, layersAdjustable: true);
        Assert.Throws<InvalidOperationException>(() => E2eBenchmark.CheckFits("llama2-70b", c with { NumHiddenLayers = layers + 1 }, LinearFormat.Fp16, 64, 64, 64, free, layersAdjustable: true));
        // INT4 70B fits in 80 GB.
        E2eBenchmark.CheckFits("llama2-70b", c, LinearFormat.Int4, 64, 64, 64, free, layersAdjustable: true);
    }

    [Fact]
    public void RunsASmallShapeOnTheGpu()
    {
        Gpu.RequireDevice();
        NvrtcRequirement.Require();
        using var dir = new TempDir();
        string json = dir.File("e2e.json");
        var r = CliRunner.Run("bench", "e2e", "--shape", "tinyllama-1.1b", "--layers", "2", "--batch", "1,4", "--input", "16", "--output", "4", "--json", json);
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("weight-read floor", r.Out);
        Assert.Contains("INT4 speedup", r.Out);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(2, doc.RootElement.GetProperty("points").GetArrayLength());
        Assert.True(doc.RootElement.GetProperty("points")[0].GetProperty("fp16").GetProperty("msPerToken").GetDouble() > 0);
    }
}
