namespace MarlinSharp.Kernels;

/// <summary>
/// Host mirror of <c>marlin_stream.cu</c>'s work partition. The grid is (KParts, n/64): CTA (p, c) covers the 64-column
/// chunk c and the p-th share of its k range, and the KParts CTAs of a chunk form one thread-block cluster that sums its
/// partials through distributed shared memory. Inside, the k range is cut into 128-deep blocks dealt to the
/// KParts × warps warps in contiguous runs (<see cref="WarpBlocks"/>, the kernel's exact arithmetic).
/// <para>
/// KParts is the largest split (at most 8, the portable cluster size) that keeps every CTA resident at once
/// (chunks × KParts ≤ SMs × resident CTAs per SM) and gives every warp at least one block: a weight stream with all its
/// CTAs resident finishes when the HBM has delivered the bytes, so a split only pays while it fills idle SMs.
/// </para>
/// </summary>
public sealed class StreamPlan
{
    public StreamPlan(int n, int k, int warps, int multiprocessors, int residentCtasPerSm, bool clusters)
    {
        if (n <= 0 || n % MarlinStreamConfig.ChunkWidth != 0)
            throw new ArgumentException($"n={n} must be a positive multiple of {MarlinStreamConfig.ChunkWidth}.", nameof(n));
        if (k <= 0 || k % MarlinStreamConfig.BlockDepth != 0)
            throw new ArgumentException($"k={k} must be a positive multiple of {MarlinStreamConfig.BlockDepth}.", nameof(k));
        if (warps is not (4 or 8)) throw new ArgumentOutOfRangeException(nameof(warps), warps, "Expected 4 or 8.");
        ArgumentOutOfRangeException.ThrowIfLessThan(multiprocessors, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(residentCtasPerSm, 1);
        Chunks = n / MarlinStreamConfig.ChunkWidth;
        if (Chunks > 65535)
            throw new ArgumentException($"n={n} gives {Chunks} column chunks; a launch's grid.y holds at most 65535.", nameof(n));
        Blocks = k / MarlinStreamConfig.BlockDepth;
        Warps = warps;
        long capacity = (long)multiprocessors * residentCtasPerSm;
        int parts = 1;
        if (clusters)
            for (int s = MarlinStreamConfig.MaxKParts; s > 1; s--)
                if ((long)Chunks * s <= capacity && s * warps <= Blocks) { parts = s; break; }
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
