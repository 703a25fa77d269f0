namespace MarlinSharp.Cli.Engine;

/// <summary>
/// Progress lines on standard error. On an interactive console each report overwrites the previous one; otherwise
/// (redirected, or a test's writer) every report is its own line. Reports arrive on the caller's thread.
/// </summary>
internal sealed class StderrProgress(TextWriter error, string prefix) : IProgress<string>
{
    private readonly bool _overwrite = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
    private int _lastLength;

    public void Report(string value)
    {
        string line = $"{prefix}{value}";
        if (_overwrite)
        {
            error.Write("\r" + line.PadRight(_lastLength));
            _lastLength = line.Length;
        }
        else
        {
            error.WriteLine(line);
        }
    }

    /// <summary>Ends an overwritten line with <paramref name="final"/>, or writes it as one more line.</summary>
    public void Done(string final)
    {
        Report(final);
        if (_overwrite) error.WriteLine();
        _lastLength = 0;
    }
}
