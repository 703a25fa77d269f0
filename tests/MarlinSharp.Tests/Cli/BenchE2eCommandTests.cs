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
    public void ProfileOptionIsParsedAndListed()
    {
        Assert.False(E2eRequest.Parse(null, null, null, 64, 64, null).Profile);
        Assert.True(E2eRequest.Parse(null, null, "1,8", 64, 64, 2, profile: true).Profile);
        Assert.True(E2eRequest.Parse(null, "some/model", null, 64, 64, null, profile: true).Profile);
        // --profile is a known flag: the error is about the bad batch list, not about --profile.
        CliRunner.Run("bench", "e2e", "--profile", "--batch", "0").AssertOneLineError("--batch", "'0'");
        var help = CliRunner.Run("bench", "e2e", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--profile", help.Out);
    }

    [Fact]
    public void ProfileTableListsEveryOpWithItsShare()
    {
        var profile = StepProfile.Aggregate([(StepOps.Embed, 0.25), (StepOps.QkvGemm, 1.0), (StepOps.QkvGemm, 1.0), (StepOps.LmHead, 1.75)], totalMs: 4.0);
        var point = new E2ePoint(LinearFormat.Int4, 16, PrefillMs: 10, MsPerToken: 3.2, DecodeSteps: 63, profile);
        var w = new StringWriter { NewLine = "\n" };
        E2eProfileReport.Write(w, point);
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("INT4 batch 16: one decode step without CUDA graphs takes 4.000 ms", lines[0]);
        Assert.Contains("3.200 ms/token measured (1.25x)", lines[0]);
        Assert.Equal(["op", "ms/step", "share", "launches"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["embed", "0.250", "6.2%", "1"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["qkv", "gemm", "2.000", "50.0%", "2"], lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["lm", "head", "1.750", "43.8%", "1"], lines[4].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["total", "4.000", "100.0%", "4"], lines[5].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Throws<ArgumentException>(() => E2eProfileReport.Write(w, point with { Profile = null }));

        string json = System.Text.Json.JsonSerializer.Serialize(E2eProfileReport.Json(profile));
        Assert.Equal("""[{"label":"embed","ms":0.25,"launches":1},{"label":"qkv gemm","ms":2,"launches":2},{"label":"lm head","ms":1.75,"launches":1}]""", json);
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
        Assert.False(doc.RootElement.GetProperty("points")[0].GetProperty("fp16").TryGetProperty("profile", out _));
    }

    [Fact]
    public void ProfilesADecodeStepOnTheGpu()
    {
        Gpu.RequireDevice();
        NvrtcRequirement.Require();
        using var dir = new TempDir();
        string json = dir.File("e2e.json");
        var r = CliRunner.Run("bench", "e2e", "--shape", "tinyllama-1.1b", "--layers", "2", "--batch", "1,3", "--input", "16", "--output", "4", "--profile", "--json", json);
        Assert.True(r.ExitCode == 0, r.Err);
        foreach (var heading in new[] { "FP16 batch 1:", "INT4 batch 1:", "FP16 batch 3:", "INT4 batch 3:" })
            Assert.Contains(heading + " one decode step without CUDA graphs", r.Out);
        Assert.Contains(StepOps.GateUpGemm, r.Out);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        foreach (var point in doc.RootElement.GetProperty("points").EnumerateArray())
            foreach (var format in new[] { "fp16", "int4" })
            {
                var figures = point.GetProperty(format);
                var ops = figures.GetProperty("profile").EnumerateArray().ToList();
                Assert.Contains(ops, o => o.GetProperty("label").GetString() == StepOps.QkvGemm && o.GetProperty("launches").GetInt32() == 2);
                Assert.All(ops, o => Assert.True(o.GetProperty("ms").GetDouble() > 0));
                double total = figures.GetProperty("profileTotalMs").GetDouble();
                Assert.InRange(ops.Sum(o => o.GetProperty("ms").GetDouble()), 0.95 * total, 1.05 * total);
            }
    }
}
