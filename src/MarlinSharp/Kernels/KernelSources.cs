using System.Reflection;

namespace MarlinSharp.Kernels;

/// <summary>The CUDA C++ sources embedded in this assembly (see the csproj's EmbeddedResource items).</summary>
public static class KernelSources
{
    public const string DenseMarlin = "marlin_dense.cu";
    public const string StreamMarlin = "marlin_stream.cu";
    public const string WideMarlin = "marlin_wgmma.cu";

    public static string Get(string fileName)
    {
        string resource = "MarlinSharp.Kernels." + fileName;
        using Stream? stream = typeof(KernelSources).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Kernel source '{fileName}' is not embedded in {typeof(KernelSources).Assembly.GetName().Name} (looked for resource '{resource}').");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static IReadOnlyList<string> Names { get; } = typeof(KernelSources).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("MarlinSharp.Kernels.", StringComparison.Ordinal) && n.EndsWith(".cu", StringComparison.Ordinal))
        .Select(n => n["MarlinSharp.Kernels.".Length..])
        .ToArray();
}
