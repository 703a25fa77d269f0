namespace MarlinSharp.Cuda;

/// <summary>NVRTC rejected a kernel source. The message includes the compiler log.</summary>
public sealed class NvrtcCompilationException : Exception
{
    public NvrtcCompilationException(string sourceName, string architecture, string log)
        : base($"NVRTC failed to compile '{sourceName}' for {architecture}:{Environment.NewLine}{log}")
    {
        SourceName = sourceName;
        Architecture = architecture;
        Log = log;
    }

    /// <summary>The source name given to NVRTC (used in diagnostics).</summary>
    public string SourceName { get; }

    /// <summary>The target architecture, e.g. <c>sm_80</c>.</summary>
    public string Architecture { get; }

    /// <summary>The full compiler log.</summary>
    public string Log { get; }
}
