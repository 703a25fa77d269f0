namespace MarlinSharp.Models.Engine;

/// <summary>The CUDA C++ sources embedded in MarlinSharp.Models (Kernels/*.cu).</summary>
public static class ModelKernelSources
{
    public const string Ops = "llama_ops.cu";
    public const string Attention = "llama_attention.cu";

    private const string Prefix = "MarlinSharp.Models.Kernels.";

    public static string Get(string fileName)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        string resource = Prefix + fileName;
        using Stream? stream = typeof(ModelKernelSources).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Kernel source '{fileName}' is not embedded in MarlinSharp.Models (looked for resource '{resource}').");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static IReadOnlyList<string> Names { get; } = typeof(ModelKernelSources).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".cu", StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..])
        .Order(StringComparer.Ordinal)
        .ToArray();
}
