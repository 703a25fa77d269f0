using MarlinSharp.Cuda;

namespace MarlinSharp.Cli.Commands;

/// <summary>Runs a command body and turns any failure into one line on standard error and a non-zero exit code.</summary>
internal static class CliAction
{
    public const int Failure = 1;
    public const int NoGpu = 2;

    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CudaUnavailableException e)
        {
            Console.Error.WriteLine($"marlin: {OneLine(e.Message)}");
            return NoGpu;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"marlin: {OneLine(e.Message)}");
            if (Environment.GetEnvironmentVariable("MARLIN_DEBUG") == "1") Console.Error.WriteLine(e);
            return Failure;
        }
    }

    private static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
