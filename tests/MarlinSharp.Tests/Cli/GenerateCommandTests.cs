using System.Text.Json;
using MarlinSharp.Tests.Engine;
using MarlinSharp.Tests.Tokenization;

namespace MarlinSharp.Tests.Cli;

public class GenerateCommandTests
{
    /// <summary>A tiny random model (vocab 512, context <paramref name="maxPos"/>) with the byte-level fixture tokenizer.</summary>
    private static void WriteModel(TempDir dir, int maxPos = 64, bool tokenizer = true)
    {
        TinyModel.Write(dir.Path, TinyModel.ConfigJson(hidden: 128, inter: 256, layers: 2, heads: 4, kvHeads: 2, vocab: 512, maxPos: maxPos), seed: 7);
        if (tokenizer) File.WriteAllText(dir.File("tokenizer.json"), TokenizerFixtures.ByteLevel().ToJsonString());
    }

    [Fact]
    public void PromptLongerThanTheContextNamesLengthAndField()
    {
        using var dir = new TempDir();
        WriteModel(dir, maxPos: 8);
        // 20 characters without merges: 20 byte tokens plus <|begin_of_text|>.
        var r = CliRunner.Run("generate", "--model", dir.Path, "--prompt", "abcdefghijabcdefghij");
        r.AssertOneLineError("21 tokens", "context of 8", "max_position_embeddings", dir.File("config.json"));
        Assert.Equal("", r.Out);

        var ids = CliRunner.Run("generate", "--model", dir.Path, "--prompt-ids", "1,2,3,4,5,6,7,8,9");
        ids.AssertOneLineError("9 tokens", "max_position_embeddings");
    }

    [Fact]
    public void OptionErrorsAreOneLineNamingTheOption()
    {
        using var dir = new TempDir();
        WriteModel(dir);
        string m = dir.Path;
        CliRunner.Run("generate", "--model", m).AssertOneLineError("--prompt");
        CliRunner.Run("generate", "--model", m, "--prompt", "hi", "--prompt-ids", "1").AssertOneLineError("--prompt", "exactly one");
        CliRunner.Run("generate", "--model", m, "--prompt", "hi", "--max-tokens", "0").AssertOneLineError("--max-tokens");
        CliRunner.Run("generate", "--model", m, "--prompt", "hi", "--temperature", "-1").AssertOneLineError("--temperature");
        CliRunner.Run("generate", "--model", m, "--prompt", "hi", "--top-k", "-3").AssertOneLineError("--top-k");
        CliRunner.Run("generate", "--model", m, "--prompt", "hi", "--top-p", "0").AssertOneLineError("--top-p");
        CliRunner.Run("generate", "--model", m, "--prompt", "hi", "--top-p", "1.5").AssertOneLineError("--top-p");
        CliRunner.Run("generate", "--model", m, "--prompt-ids", "1,x,3").AssertOneLineError("--prompt-ids", "'x'");
        CliRunner.Run("generate", "--model", m, "--prompt-ids", "1,-2").AssertOneLineError("--prompt-ids", "'-2'");
        CliRunner.Run("generate", "--model", m, "--prompt-ids", "1,512").AssertOneLineError("--prompt-ids", "512", "vocab_size");
        CliRunner.Run("generate", "--prompt", "hi").AssertOneLineError("--model");
        CliRunner.Run("generate", "--model", m, "--prompt", "hi", "--max-tokens", "many").AssertOneLineError("many");
    }

    [Fact]
    public void MissingOrBrokenModelFilesNameTheFile()
    {
        using var dir = new TempDir();
        CliRunner.Run("generate", "--model", dir.File("nope"), "--prompt", "hi").AssertOneLineError(dir.File("nope"));
        CliRunner.Run("generate", "--model", dir.Path, "--prompt", "hi").AssertOneLineError(dir.File("config.json"));

        WriteModel(dir, tokenizer: false);
        CliRunner.Run("generate", "--model", dir.Path, "--prompt", "hi").AssertOneLineError(dir.File("tokenizer.json"), "--prompt-ids");

        File.WriteAllBytes(dir.File("model.safetensors"), [1, 2, 3]);
        CliRunner.Run("generate", "--model", dir.Path, "--prompt-ids", "1").AssertOneLineError(dir.File("model.safetensors"));
    }

    [Fact]
    public void UnsupportedArchitectureNamesTheField()
    {
        using var dir = new TempDir();
        WriteModel(dir);
        File.WriteAllText(dir.File("config.json"), File.ReadAllText(dir.File("config.json")).Replace("\"model_type\": \"llama\"", "\"model_type\": \"gpt2\"")
            .Replace("LlamaForCausalLM", "GPT2LMHeadModel"));
        CliRunner.Run("generate", "--model", dir.Path, "--prompt", "hi").AssertOneLineError(dir.File("config.json"), "model_type", "gpt2");
    }

    [Fact]
    public void GreedyPromptIdsPrintTheGeneratedIdsOnTheGpu()
    {
        Gpu.RequireDevice();
        NvrtcRequirement.Require();
        using var dir = new TempDir();
        WriteModel(dir);
        var r = CliRunner.Run("generate", "--model", dir.Path, "--prompt-ids", "300,116,256", "--max-tokens", "6");
        Assert.True(r.ExitCode == 0, r.Err);
        var ids = JsonSerializer.Deserialize<int[]>(r.Out.Trim())!;
        Assert.InRange(ids.Length, 1, 6);
        Assert.All(ids, id => Assert.InRange(id, 0, 511));
        // Greedy is deterministic, and INT4 runs the same path.
        Assert.Equal(r.Out, CliRunner.Run("generate", "--model", dir.Path, "--prompt-ids", "300,116,256", "--max-tokens", "6").Out);
        Assert.Equal(0, CliRunner.Run("generate", "--model", dir.Path, "--prompt-ids", "300,116,256", "--max-tokens", "6", "--int4").ExitCode);
    }

    [Fact]
    public void TextPromptStreamsDecodedTextOnTheGpu()
    {
        Gpu.RequireDevice();
        NvrtcRequirement.Require();
        using var dir = new TempDir();
        WriteModel(dir);
        var r = CliRunner.Run("generate", "--model", dir.Path, "--prompt", "the hello", "--max-tokens", "8", "--temperature", "0.8", "--top-k", "20", "--seed", "5");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.EndsWith("\n", r.Out);
        Assert.Contains("sampling with seed 5", r.Err);
        Assert.Equal(r.Out, CliRunner.Run("generate", "--model", dir.Path, "--prompt", "the hello", "--max-tokens", "8", "--temperature", "0.8", "--top-k", "20", "--seed", "5").Out);
    }
}
