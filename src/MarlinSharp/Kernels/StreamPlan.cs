namespace MarlinSharp.Kernels;

/// <summary>
/// Host mirror of <c>marlin_stream.cu</c>'s work partition. The grid is (KParts, n/(64·ChunksPerCta)): CTA (p, c) covers
/// the ChunksPerCta 64-column chunks of group c and the p-th share of their k range, and the KParts CTAs of a group form
/// one thread-block cluster that sums its partials through distributed shared memory. Inside, the k range is cut into
/// 128-deep blocks dealt to the KParts × <see cref="WarpsPerChunk"/> k runs in contiguous runs (<see cref="WarpBlocks"/>,
/// the kernel's exact arithmetic); the ChunksPerCta warps of a CTA with the same k run share its activations.
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
    /// <param name="chunksPerCta">64-column chunks per CTA (<see cref="MarlinStreamConfig.ChunksPerCta"/>).</param>
    public StreamPlan(int n, int k, int warps, Func<int, long> residentClusters, int maxKParts, int chunksPerCta = 1)
    {
        ArgumentNullException.ThrowIfNull(residentClusters);
        if (n <= 0 || n % MarlinStreamConfig.ChunkWidth != 0)
            throw new ArgumentException($"n={n} must be a positive multiple of {MarlinStreamConfig.ChunkWidth}.", nameof(n));
        if (k <= 0 || k % MarlinStreamConfig.BlockDepth != 0)
            throw new ArgumentException($"k={k} must be a positive multiple of {MarlinStreamConfig.BlockDepth}.", nameof(k));
        if (warps is not (4 or 8)) throw new ArgumentOutOfRangeException(nameof(warps), warps, "Expected 4 or 8.");
        if (chunksPerCta is not (1 or 2 or 4 or 8) || chunksPerCta > warps)
            throw new ArgumentOutOfRangeException(nameof(chunksPerCta), chunksPerCta, $"Expected 1, 2, 4 or 8, at most warps={warps}.");
        if (n % (MarlinStreamConfig.ChunkWidth * chunksPerCta) != 0)
            throw new ArgumentException($"n={n} must be a multiple of {MarlinStreamConfig.ChunkWidth * chunksPerCta} for {chunksPerCta} chunks per CTA.", nameof(n));
        if (maxKParts is < 1 or > MarlinStreamConfig.MaxKParts)
            throw new ArgumentOutOfRangeException(nameof(maxKParts), maxKParts, $"Expected 1..{MarlinStreamConfig.MaxKParts}.");
        Chunks = n / MarlinStreamConfig.ChunkWidth;
        ChunkGroups = Chunks / chunksPerCta;
        if (ChunkGroups > 65535)
            throw new ArgumentException($"n={n} gives {ChunkGroups} groups of column chunks; a launch's grid.y holds at most 65535.", nameof(n));
        Blocks = k / MarlinStreamConfig.BlockDepth;
        Warps = warps;
        WarpsPerChunk = warps / chunksPerCta;
        int parts = 1;
        for (int s = maxKParts; s > 1; s--)
            if (s * WarpsPerChunk <= Blocks && ChunkGroups <= residentClusters(s)) { parts = s; break; }
        KParts = parts;
        if ((long)Blocks * KParts * WarpsPerChunk >= 1L << 32)
            throw new ArgumentException($"k={k} is too deep for the kernel's 32-bit block arithmetic.", nameof(k));
    }

    /// <summary>64-column chunks of the layer.</summary>
    public int Chunks { get; }
    /// <summary>Groups of chunks that one CTA covers (the grid's y extent).</summary>
    public int ChunkGroups { get; }
    public int Blocks { get; }
    public int Warps { get; }
    /// <summary>Warps of a CTA per chunk: the k runs of one k part.</summary>
    public int WarpsPerChunk { get; }
    public int KParts { get; }
    public int Ctas => ChunkGroups * KParts;

    /// <summary>The 128-deep blocks [First, End) of k run <paramref name="run"/> (0 ≤ run &lt; <see cref="WarpsPerChunk"/>) of
    /// k part <paramref name="part"/>: what the warp of each chunk of the CTA with that run streams.</summary>
    public (int First, int End) WarpBlocks(int part, int run)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(part);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(part, KParts);
        ArgumentOutOfRangeException.ThrowIfNegative(run);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(run, WarpsPerChunk);
        uint total = (uint)(KParts * WarpsPerChunk), mine = (uint)(part * WarpsPerChunk + run);
        return ((int)(mine * (uint)Blocks / total), (int)((mine + 1) * (uint)Blocks / total));
    }
}
