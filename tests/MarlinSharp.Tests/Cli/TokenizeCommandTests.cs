using MarlinSharp.Tests.Tokenization;

namespace MarlinSharp.Tests.Cli;

public class TokenizeCommandTests
{
    private static string WriteByteLevel(TempDir dir)
    {
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, TokenizerFixtures.ByteLevel().ToJsonString());
        return path;
    }

    [Fact]
    public void PrintsIdsAsOneJsonArrayWithTheTemplatesSpecialTokens()
    {
        using var dir = new TempDir();
        string tokenizer = WriteByteLevel(dir);
        // " the" is one merged token (258); the post-processor's template puts <|begin_of_text|> (300) first.
        var r = CliRunner.Run("tokenize", "--tokenizer", tokenizer, " the");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("[300,258]\n", r.Out);
        Assert.Equal("", r.Err);

        // "the hello" pre-tokenizes to "the", " hello": t, he | Ġ, he, ll, o.
        Assert.Equal("[300,116,256,32,256,259,111]\n", CliRunner.Run("tokenize", "--tokenizer", tokenizer, "the hello").Out);
    }

    [Fact]
    public void NoSpecialLeavesOutTheTemplateTokens()
    {
        using var dir = new TempDir();
        string tokenizer = WriteByteLevel(dir);
        var r = CliRunner.Run("tokenize", "--no-special", "--tokenizer", tokenizer, " the");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("[258]\n", r.Out);
        // Special tokens written in the text are still matched.
        Assert.Equal("[301]\n", CliRunner.Run("tokenize", "--tokenizer", tokenizer, "--no-special", "<|end_of_text|>").Out);
        Assert.Equal("[]\n", CliRunner.Run("tokenize", "--tokenizer", tokenizer, "--no-special", "").Out);
    }

    [Fact]
    public void SentencePieceStyleTokenizerAddsBos()
    {
        using var dir = new TempDir();
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, TokenizerFixtures.SentencePiece().ToJsonString());
        Assert.Equal("[1,268]\n", CliRunner.Run("tokenize", "--tokenizer", path, "hello").Out);
        // A folder holding tokenizer.json works too.
        Assert.Equal("[268]\n", CliRunner.Run("tokenize", "--tokenizer", dir.Path, "--no-special", "hello").Out);
    }

    [Fact]
    public void MissingTokenizerFileIsOneLineNamingTheFile()
    {
        using var dir = new TempDir();
        string missing = dir.File("nope.json");
        CliRunner.Run("tokenize", "--tokenizer", missing, "x").AssertOneLineError(missing, "does not exist");
    }

    [Fact]
    public void CorruptTokenizerIsOneLineNamingTheFile()
    {
        using var dir = new TempDir();
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": ");
        CliRunner.Run("tokenize", "--tokenizer", path, "x").AssertOneLineError(path, "not valid JSON");
    }

    [Fact]
    public void MissingArgumentsAreOneLine()
    {
        CliRunner.Run("tokenize", "hello").AssertOneLineError("--tokenizer", "marlin tokenize --help");
        CliRunner.Run("tokenize", "--tokenizer", "x.json").AssertOneLineError("TEXT");
    }
}
