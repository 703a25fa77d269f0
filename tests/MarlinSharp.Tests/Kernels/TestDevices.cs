using MarlinSharp.Cuda;

namespace MarlinSharp.Tests.Kernels;

/// <summary>Device descriptions for testing selection logic without a GPU.</summary>
internal static class TestDevices
{
    public static DeviceInfo H100 { get; } = new(0, "NVIDIA H100 80GB HBM3", 9, 0, 132, 50L << 20, 80L << 30, 227 * 1024, 13000, 2_619_000, 5120);
    public static DeviceInfo A100 { get; } = new(0, "NVIDIA A100-SXM4-80GB", 8, 0, 108, 40L << 20, 80L << 30, 163 * 1024, 12000, 1_593_000, 5120);
    public static DeviceInfo Rtx4090 { get; } = new(0, "NVIDIA GeForce RTX 4090", 8, 9, 128, 72L << 20, 24L << 30, 99 * 1024, 12000, 10_501_000, 384);

    public static IReadOnlyList<DeviceInfo> ReferenceProfiles { get; } = [H100, A100, Rtx4090];

    /// <summary>Every configuration the selector can choose on any reference profile.</summary>
    /// <summary>(architecture, configuration) for every configuration the selector can choose on each reference
    /// profile, compiled for that profile's own architecture.</summary>
    public static IReadOnlyList<(string Architecture, MarlinSharp.Kernels.MarlinKernelConfig Config)> SelectablePerArchitecture { get; } =
        [.. ReferenceProfiles.SelectMany(d => MarlinSharp.Kernels.MarlinKernelSelector.Candidates(d).Select(c => (d.Architecture, c))).Distinct()];

    /// <summary>Every configuration the selector can choose on any reference profile, plus the 16-row swapped
    /// variants that tuning (bench --config) can force.</summary>
    public static IReadOnlyList<MarlinSharp.Kernels.MarlinKernelConfig> AllSelectable { get; } =
    [
        .. ReferenceProfiles.SelectMany(MarlinSharp.Kernels.MarlinKernelSelector.Candidates).Distinct(),
        new(1, 256, 128, 4, 8, CtasPerSm: 1, SwapAb: 2),
        new(1, 256, 128, 4, 0, CtasPerSm: 1, SwapAb: 2),
        new(2, 256, 64, 4, 8, CtasPerSm: 1, SwapAb: 4),
        new(2, 256, 64, 4, 0, CtasPerSm: 1, SwapAb: 4),
        new(1, 64, 128, 6, 8, CtasPerSm: 2, SwapAb: 2, WholeColumns: true),
        new(1, 128, 128, 6, 0, CtasPerSm: 2, SwapAb: 1, WholeColumns: true),
        new(1, 256, 128, 4, 8, CtasPerSm: 2, SwapAb: 1, BulkWeights: true),
        new(1, 256, 128, 3, 8, CtasPerSm: 2, SwapAb: 2, BulkWeights: true),
        new(4, 256, 128, 4, 8, BulkWeights: true),
    ];

    /// <summary>A configuration as theory data: MBlocks,TileN,TileK,Stages,GroupBlocks,CtasPerSm,EvictFirst,PrefetchBytes,SwapAb,WholeColumns.</summary>
    public static string Format(MarlinSharp.Kernels.MarlinKernelConfig c) =>
        $"{c.MBlocks},{c.TileN},{c.TileK},{c.Stages},{c.GroupBlocks},{c.CtasPerSm},{(c.EvictFirst ? 1 : 0)},{c.PrefetchBytes},{c.SwapAb},{(c.WholeColumns ? 1 : 0)},{(c.BulkWeights ? 1 : 0)}";

    public static MarlinSharp.Kernels.MarlinKernelConfig Parse(string text)
    {
        int[] v = text.Split(',').Select(int.Parse).ToArray();
        return new(v[0], v[1], v[2], v[3], v[4], EvictFirst: v[6] != 0, CtasPerSm: v[5], PrefetchBytes: v[7], SwapAb: v[8], WholeColumns: v[9] != 0, BulkWeights: v[10] != 0);
    }
}
