namespace MarlinSharp.Kernels;

/// <summary>
/// One compile-time instantiation of <c>marlin_dense.cu</c>. Every field becomes a <c>-D</c> macro, so each
/// distinct configuration is its own NVRTC compilation (cached on disk by <see cref="Cuda.KernelCache"/>).
/// </summary>
/// <param name="MBlocks">16-row blocks of A per launch (1..4): a launch covers up to 16·MBlocks rows.</param>
/// <param name="TileN">Output columns per CTA tile (64, 128 or 256).</param>
/// <param name="TileK">Input features per pipeline stage (64 or 128).</param>
/// <param name="Stages">Depth of the shared-memory ring (2..8).</param>
/// <param name="GroupBlocks">Group size / 16 (2, 4 or 8), or 0 for per-output-channel scales.</param>
/// <param name="EvictFirst">Weight loads carry an L2 evict-first policy (see DESIGN.md hazard on CUDA 13 ptxas).</param>
/// <param name="CtasPerSm">Resident CTAs per SM (1 or 2); 2 caps registers at 128 per thread and halves the shared memory each CTA may use.</param>
/// <param name="PrefetchBytes">L2 prefetch-size hint on weight loads: 0 (none), 128 or 256.</param>
/// <param name="SwapAb">0: activations are the mma A operand. 1, 2 or 4: the weights are, serving 8, 16 or 32 rows (MBlocks must be 1, 1 or 2).</param>
/// <param name="WholeColumns">Launch at most one CTA per column tile, so that no column is split between CTAs and no
/// global reduction happens (small layers: fewer busy SMs, but no partial sums). A launch setting, not compiled in.</param>
/// <param name="BulkWeights">Weight slabs arrive by TMA bulk copies completing on an mbarrier (sm_90 with NVRTC 12+; elsewhere
/// the kernel falls back to per-thread copies).</param>
public sealed record MarlinKernelConfig(int MBlocks, int TileN, int TileK, int Stages, int GroupBlocks, bool EvictFirst = false, int CtasPerSm = 1,
    int PrefetchBytes = 0, int SwapAb = 0, bool WholeColumns = false, bool BulkWeights = false) : IMarlinKernelVariant
{
    public const int ThreadsPerBlock = 256;
    public const string EntryPoint = "marlin_gemm";

    string IMarlinKernelVariant.SourceName => KernelSources.DenseMarlin;
    string IMarlinKernelVariant.EntryPoint => EntryPoint;
    int IMarlinKernelVariant.DynamicSharedMemoryBytes => SharedMemoryBytes;
    int IMarlinKernelVariant.BlockThreads => ThreadsPerBlock;

    public int WarpsN => TileN / 64;
    public int WarpsK => 8 / WarpsN;
    public int RowsPerLaunch => SwapAb > 0 ? 8 * SwapAb : 16 * MBlocks;

    /// <summary>Group size this configuration serves; -1 for per-output-channel.</summary>
    public int GroupSize => GroupBlocks == 0 ? -1 : GroupBlocks * 16;

    /// <summary>Mirrors <c>cfg::smem_vecs</c> in the kernel (the kernel traps if it gets less).</summary>
    public int SharedMemoryBytes
    {
        get
        {
            int slabs = TileK / 16;
            int bStage = slabs * TileN / 2;
            int aStage = 16 * MBlocks * (TileK / 8);
            int sRows = GroupBlocks == 0 ? 0 : (TileK >= 16 * GroupBlocks ? TileK / (16 * GroupBlocks) : 1);
            int sStage = sRows * (TileN / 8);
            int reductionRows = SwapAb == 1 ? 8 : 16;
            int reduction = WarpsK * reductionRows * (TileN + 8) / 4;
            return 16 * (Stages * (bStage + aStage + sStage) + reduction);
        }
    }

    /// <summary>The most CTAs a launch of this configuration uses on a GPU with <paramref name="multiprocessors"/> SMs and n = <paramref name="n"/>.</summary>
    public int MaxCtas(int multiprocessors, int n) =>
        WholeColumns ? Math.Min(multiprocessors * CtasPerSm, n / TileN) : multiprocessors * CtasPerSm;

    /// <summary>Floats in one CTA's partial-sum slot of the global-reduction workspace.</summary>
    public int PartialFloats => MBlocks * 16 * TileN;

    /// <summary>Throws unless the kernel's static assertions would hold for this configuration.</summary>
    public void Validate()
    {
        if (MBlocks is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(MBlocks), MBlocks, "Expected 1..4.");
        if (TileN is not (64 or 128 or 256)) throw new ArgumentOutOfRangeException(nameof(TileN), TileN, "Expected 64, 128 or 256.");
        if (TileK is not (64 or 128)) throw new ArgumentOutOfRangeException(nameof(TileK), TileK, "Expected 64 or 128.");
        if (Stages is < 2 or > 8) throw new ArgumentOutOfRangeException(nameof(Stages), Stages, "Expected 2..8.");
        if (GroupBlocks is not (0 or 2 or 4 or 8)) throw new ArgumentOutOfRangeException(nameof(GroupBlocks), GroupBlocks, "Expected 0 (per-channel), 2, 4 or 8.");
        if (SwapAb is not (0 or 1 or 2 or 4)) throw new ArgumentOutOfRangeException(nameof(SwapAb), SwapAb, "Expected 0, 1 (8 rows), 2 (16 rows) or 4 (32 rows).");
        if (SwapAb > 0 && MBlocks != (SwapAb + 1) / 2)
            throw new ArgumentException($"Swapped operands with {8 * SwapAb} rows need MBlocks = {(SwapAb + 1) / 2}, not {MBlocks}.", nameof(SwapAb));
        if (CtasPerSm is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(CtasPerSm), CtasPerSm, "Expected 1 or 2.");
        if (PrefetchBytes is not (0 or 128 or 256)) throw new ArgumentOutOfRangeException(nameof(PrefetchBytes), PrefetchBytes, "Expected 0, 128 or 256.");
        if ((TileK / 16) % WarpsK != 0)
            throw new ArgumentException($"TileK={TileK} gives {TileK / 16} k16 slabs, which do not split over {WarpsK} k-stacked warps (TileN={TileN}).", nameof(TileK));
        if (TileK / 16 * TileN / 2 % ThreadsPerBlock != 0)
            throw new ArgumentException($"A {TileK}x{TileN} weight tile does not split evenly over {ThreadsPerBlock} threads.", nameof(TileN));
    }

    public IReadOnlyList<string> CompileOptions() =>
    [
        "-std=c++17",
        $"-DMARLIN_M_BLOCKS={MBlocks}",
        $"-DMARLIN_TILE_N={TileN}",
        $"-DMARLIN_TILE_K={TileK}",
        $"-DMARLIN_STAGES={Stages}",
        $"-DMARLIN_GROUP_BLOCKS={GroupBlocks}",
        $"-DMARLIN_B_EVICT_FIRST={(EvictFirst ? 1 : 0)}",
        $"-DMARLIN_CTAS_PER_SM={CtasPerSm}",
        $"-DMARLIN_B_PREFETCH={PrefetchBytes}",
        $"-DMARLIN_SWAP_AB={SwapAb}",
        $"-DMARLIN_BULK_B={(BulkWeights ? 1 : 0)}",
    ];

    public override string ToString() =>
        $"m{RowsPerLaunch}_n{TileN}_k{TileK}_s{Stages}_g{(GroupBlocks == 0 ? "ch" : (GroupBlocks * 16).ToString())}" +
        $"{(SwapAb > 0 ? "_sw" : "")}{(CtasPerSm > 1 ? $"_x{CtasPerSm}" : "")}{(EvictFirst ? "_ef" : "")}{(PrefetchBytes > 0 ? $"_p{PrefetchBytes}" : "")}" +
        $"{(WholeColumns ? "_wc" : "")}{(BulkWeights ? "_tma" : "")}";

    /// <summary>Tile shapes (TileN, TileK) the selector may choose.</summary>
    public static IReadOnlyList<(int TileN, int TileK)> TileShapes { get; } = [(128, 128), (256, 64), (64, 128), (128, 64), (256, 128)];

    public static int GroupBlocksFor(int groupSize) => groupSize switch
    {
        -1 => 0,
        32 or 64 or 128 => groupSize / 16,
        _ => throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "Expected 32, 64, 128 or -1 (per output channel)."),
    };
}
