using System.CommandLine;
using MarlinSharp.Cli.Commands;

namespace MarlinSharp.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>
    /// Runs the CLI in-process with the given writers (results on <paramref name="stdout"/>, progress and errors on
    /// <paramref name="stderr"/>) and returns the exit code. A command-line error is one line on stderr, exit code 1.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var root = new RootCommand("MarlinSharp: fast FP16xINT4 (Marlin) matrix multiplies and 4-bit LLM inference on NVIDIA GPUs.")
        {
            InfoCommand.Create(),
            VerifyCommand.Create(),
            DemoCommand.Create(),
            BenchCommand.Create(),
            GenerateCommand.Create(),
            InspectCommand.Create(),
            TokenizeCommand.Create(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            string command = string.Join(' ', parsed.CommandResult.Command is RootCommand ? ["marlin"] : ["marlin", .. CommandPath(parsed.CommandResult)]);
            stderr.WriteLine($"marlin: {CliAction.OneLine(string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.'))))} (see '{command} --help')");
            return CliAction.Failure;
        }
        return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = stdout, Error = stderr });
    }

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null && r.Command is not RootCommand; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Push(r.Command.Name);
        return names;
    }
}
