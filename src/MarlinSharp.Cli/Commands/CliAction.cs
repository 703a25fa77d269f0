using System.CommandLine;
using MarlinSharp.Cuda;

namespace MarlinSharp.Cli.Commands;

/// <summary>The writers a command prints to: results on <see cref="Out"/>, progress and errors on <see cref="Error"/>.</summary>
internal sealed record CliOutput(TextWriter Out, TextWriter Error)
{
    public static CliOutput Console { get; } = new(System.Console.Out, System.Console.Error);

    public static CliOutput From(ParseResult result) =>
        result.InvocationConfiguration is { } c ? new CliOutput(c.Output, c.Error) : Console;
}

/// <summary>Runs a command body and turns any failure into one line on standard error and a non-zero exit code.</summary>
internal static class CliAction
{
    public const int Failure = 1;
    public const int NoGpu = 2;

    public static int Run(Func<int> body) => Run(CliOutput.Console, _ => body());

    /// <summary>Runs <paramref name="body"/> with the writers of this invocation (tests pass their own).</summary>
    public static int Run(ParseResult result, Func<CliOutput, int> body) => Run(CliOutput.From(result), body);

    public static int Run(CliOutput output, Func<CliOutput, int> body)
    {
        try
        {
            return body(output);
        }
        catch (CudaUnavailableException e)
        {
            output.Error.WriteLine($"marlin: {OneLine(e.Message)}");
            return NoGpu;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            output.Error.WriteLine($"marlin: {OneLine(e.Message)}");
            if (Environment.GetEnvironmentVariable("MARLIN_DEBUG") == "1") output.Error.WriteLine(e);
            return Failure;
        }
    }

    public static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
