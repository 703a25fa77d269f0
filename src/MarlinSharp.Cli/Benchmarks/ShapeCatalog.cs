namespace MarlinSharp.Cli.Benchmarks;

/// <summary>A named set of (k, n) layer shapes whose times are summed, as the paper's model-layer figures do.</summary>
internal sealed record LayerSet(string Name, IReadOnlyList<(int K, int N)> Layers);

/// <summary>The shapes of the MARLIN paper and of DESIGN.md's anchor table.</summary>
internal static class ShapeCatalog
{
    public const int PeakK = 73728, PeakN = 18432;

    /// <summary>The paper's peak shape scaled to this GPU: k = 1024·SMs, n = 256·SMs.</summary>
    public static (int K, int N) Scaled(int multiprocessors) => (1024 * multiprocessors, 256 * multiprocessors);

    public static IReadOnlyList<LayerSet> LayerSets { get; } =
    [
        new("llama2-7b", [(4096, 12288), (4096, 4096), (4096, 22016), (11008, 4096)]),
        new("llama2-70b", [(8192, 10240), (8192, 8192), (8192, 57344), (28672, 8192)]),
        new("llama-7b", [(4096, 12288), (4096, 4096), (4096, 21504), (10752, 4096)]),
        new("llama-13b", [(5120, 15360), (5120, 5120), (5120, 27136), (13568, 5120)]),
        new("llama-33b", [(6656, 19968), (6656, 6656), (6656, 35328), (17664, 6656)]),
        new("llama-65b", [(8192, 24576), (8192, 8192), (8192, 43520), (21760, 8192)]),
        new("falcon-180b", [(14848, 75264), (74240, 14848)]),
    ];

    public static IReadOnlyList<int> DefaultBatchSizes { get; } = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];

    public static LayerSet Find(string name) =>
        LayerSets.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown layer set '{name}'. Known: {string.Join(", ", LayerSets.Select(s => s.Name))}.", "--layers");

    /// <summary>Parses "peak", "scaled" or "KxN".</summary>
    public static (string Name, int K, int N) ParseShape(string text, int multiprocessors)
    {
        if (text.Equals("peak", StringComparison.OrdinalIgnoreCase)) return ($"peak {PeakK}x{PeakN}", PeakK, PeakN);
        if (text.Equals("scaled", StringComparison.OrdinalIgnoreCase))
        {
            var (k, n) = Scaled(multiprocessors);
            return ($"scaled {k}x{n}", k, n);
        }
        string[] parts = text.ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], out int kk) && int.TryParse(parts[1], out int nn) && kk > 0 && nn > 0)
            return ($"{kk}x{nn}", kk, nn);
        throw new ArgumentException($"Cannot read shape '{text}': expected 'peak', 'scaled' or KxN such as 4096x12288.", "--shape");
    }
}
