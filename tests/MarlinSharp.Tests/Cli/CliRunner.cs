using MarlinSharp.Cli;

namespace MarlinSharp.Tests.Cli;

/// <summary>The outcome of one in-process <c>marlin</c> run.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Err)
{
    public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Asserts a failure reported as exactly one line on stderr, without a stack trace, containing every fragment.</summary>
    public string AssertOneLineError(params string[] fragments)
    {
        Assert.NotEqual(0, ExitCode);
        Assert.True(ErrLines.Length == 1, $"expected one line on stderr, got:\n{Err}");
        string line = ErrLines[0];
        Assert.StartsWith("marlin: ", line);
        Assert.DoesNotContain("   at ", line);
        Assert.DoesNotContain("Exception", line);
        foreach (var f in fragments) Assert.Contains(f, line);
        return line;
    }
}

internal static class CliRunner
{
    public static CliResult Run(params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int code = Program.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>A temporary folder deleted with the test.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "marlin-cli-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
