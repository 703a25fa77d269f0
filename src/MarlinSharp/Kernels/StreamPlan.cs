namespace MarlinSharp.Kernels;

/// <summary>
/// Host mirror of <c>marlin_stream.cu</c>'s work partition. The grid is (KParts, n/64): CTA (p, c) covers the 64-column
/// chunk c and the p-th share of its k range, and the KParts CTAs of a chunk form one thread-block cluster that sums its
/// partials through distributed shared memory. Inside, the k range is cut into 128-deep blocks dealt to the
/// KParts × warps warps in contiguous runs (<see cref="WarpBlocks"/>, the kernel's exact arithmetic).
/// <para>
/// KParts is the largest split (at most <paramref name="maxKParts"/>; 8 is the portable cluster size) that keeps every
/// cluster resident at once (chunks ≤ the clusters of that size the GPU holds together, which the driver computes with
/// the GPC placement of clusters in mind) and gives every warp at least one block: a weight stream with all its CTAs
/// resident finishes when the HBM has delivered the bytes, so a split only pays while it fills idle SMs.
/// </para>
/// </summary>
public sealed class StreamPlan
{
    /// <param name="residentClusters">How many clusters of s CTAs the GPU holds at once, for s = 1..maxKParts (s = 1: CTAs).</param>
    /// <param name="maxKParts">Largest cluster to consider: 1 without thread-block clusters (before compute capability 9.0), at most 8.</param>
    public StreamPlan(int n, int k, int warps, Func<int, long> residentClusters, int maxKParts)
    {
        ArgumentNullException.ThrowIfNull(residentClusters);
        if (n <= 0 || n % MarlinStreamConfig.ChunkWidth != 0)
            throw new ArgumentException($"n={n} must be a positive multiple of {MarlinStreamConfig.ChunkWidth}.", nameof(n));
        if (k <= 0 || k % MarlinStreamConfig.BlockDepth != 0)
            throw new ArgumentException($"k={k} must be a positive multiple of {MarlinStreamConfig.BlockDepth}.", nameof(k));
        if (warps is not (4 or 8)) throw new ArgumentOutOfRangeException(nameof(warps), warps, "Expected 4 or 8.");
        if (maxKParts is < 1 or > MarlinStreamConfig.MaxKParts)
            throw new ArgumentOutOfRangeException(nameof(maxKParts), maxKParts, $"Expected 1..{MarlinStreamConfig.MaxKParts}.");
        Chunks = n / MarlinStreamConfig.ChunkWidth;
        if (Chunks > 65535)
            throw new ArgumentException($"n={n} gives {Chunks} column chunks; a launch's grid.y holds at most 65535.", nameof(n));
        Blocks = k / MarlinStreamConfig.BlockDepth;
        Warps = warps;
        int parts = 1;
        for (int s = maxKParts; s > 1; s--)
            if (s * warps <= Blocks && Chunks <= residentClusters(s)) { parts = s; break; }
        KParts = parts;
        if ((long)Blocks * KParts * warps >= 1L << 32)
            throw new ArgumentException($"k={k} is too deep for the kernel's 32-bit block arithmetic.", nameof(k));
    }

    public int Chunks { get; }
    public int Blocks { get; }
    public int Warps { get; }
    public int KParts { get; }
    public int Ctas => Chunks * KParts;

    /// <summary>The 128-deep blocks [First, End) that warp <paramref name="warp"/> of k part <paramref name="part"/> streams.</summary>
    public (int First, int End) WarpBlocks(int part, int warp)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(part);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(part, KParts);
        ArgumentOutOfRangeException.ThrowIfNegative(warp);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(warp, Warps);
        uint total = (uint)(KParts * Warps), mine = (uint)(part * Warps + warp);
        return ((int)(mine * (uint)Blocks / total), (int)((mine + 1) * (uint)Blocks / total));
    }
}
