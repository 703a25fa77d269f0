using System.CommandLine;
using MarlinSharp.Cli.Commands;

namespace MarlinSharp.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("MarlinSharp: fast FP16xINT4 (Marlin) matrix multiplies and 4-bit LLM inference on NVIDIA GPUs.")
        {
            InfoCommand.Create(),
            VerifyCommand.Create(),
            DemoCommand.Create(),
            BenchCommand.Create(),
        };
        return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }
}
