namespace MarlinSharp.Kernels;

/// <summary>
/// One compile-time instantiation of <c>marlin_stream.cu</c>, the register-streamed kernel for up to 16 rows: weights go
/// from HBM straight into registers, one 64-column chunk per warp, and a chunk's k range is split over the CTAs of a
/// thread-block cluster (see <see cref="StreamPlan"/>).
/// </summary>
/// <param name="BatchBlocks">8-row batch blocks per launch: 1 (up to 8 rows) or 2 (up to 16).</param>
/// <param name="GroupBlocks">Group size / 16 (2, 4 or 8), or 0 for per-output-channel scales.</param>
/// <param name="Warps">Warps per CTA: 4 or 8.</param>
/// <param name="StageDepth">0: each warp keeps one 128-deep block of weights in flight in registers. 16 or 32: that many
/// 16-deep slabs in flight per warp through a per-lane shared-memory ring (fewer registers, more bytes in flight).</param>
/// <param name="Epilogue">What the kernel does with the sums (see <see cref="StreamEpilogue"/>).</param>
public sealed record MarlinStreamConfig(int BatchBlocks, int GroupBlocks, int Warps = 4, int StageDepth = 0,
    StreamEpilogue Epilogue = StreamEpilogue.Store) : IMarlinKernelVariant
{
    public const string KernelEntryPoint = "marlin_stream_gemm";

    /// <summary>k depth of the unit of work one warp streams at a time (8 slabs of 16).</summary>
    public const int BlockDepth = 128;

    /// <summary>Output columns one CTA (and each of its warps) covers.</summary>
    public const int ChunkWidth = 64;

    /// <summary>Most CTAs that share one chunk's k range (the portable cluster size limit).</summary>
    public const int MaxKParts = 8;

    public string SourceName => KernelSources.StreamMarlin;
    public string EntryPoint => KernelEntryPoint;
    /// <summary>The stage ring's shared memory (0 for the register ring); a launch adds <see cref="ActivationStageBytes"/>.</summary>
    public int DynamicSharedMemoryBytes => Warps * StageDepth * 32 * 16;

    /// <summary>
    /// Shared memory for the activations a CTA stages: min(rows, <see cref="RowsPerLaunch"/>) rows of the largest k range a
    /// CTA covers (ceil(k/128 / kParts) blocks of 128), each padded by 8 halves (marlin_stream.cu's stage_row_words).
    /// </summary>
    public int ActivationStageBytes(int rows, int k, int kParts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, BlockDepth);
        ArgumentOutOfRangeException.ThrowIfLessThan(kParts, 1);
        long blocks = k / BlockDepth;
        long rowWords = (blocks + kParts - 1) / kParts * 64 + 4;
        return checked((int)(Math.Min(rows, RowsPerLaunch) * rowWords * 4));
    }

    /// <summary>Dynamic shared memory of one launch: the stage ring and the staged activations.</summary>
    public int LaunchSharedMemoryBytes(int rows, int k, int kParts) => DynamicSharedMemoryBytes + ActivationStageBytes(rows, k, kParts);
    public int RowsPerLaunch => 8 * BatchBlocks;
    public int ThreadsPerBlock => 32 * Warps;
    int IMarlinKernelVariant.BlockThreads => ThreadsPerBlock;
    public int GroupSize => GroupBlocks == 0 ? -1 : GroupBlocks * 16;

    public void Validate()
    {
        if (BatchBlocks is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(BatchBlocks), BatchBlocks, "Expected 1 (8 rows) or 2 (16 rows).");
        if (GroupBlocks is not (0 or 2 or 4 or 8)) throw new ArgumentOutOfRangeException(nameof(GroupBlocks), GroupBlocks, "Expected 0 (per-channel), 2, 4 or 8.");
        if (Warps is not (4 or 8)) throw new ArgumentOutOfRangeException(nameof(Warps), Warps, "Expected 4 or 8.");
        if (StageDepth is not (0 or 16 or 32)) throw new ArgumentOutOfRangeException(nameof(StageDepth), StageDepth, "Expected 0 (registers), 16 or 32.");
        if (!Enum.IsDefined(Epilogue)) throw new ArgumentOutOfRangeException(nameof(Epilogue), Epilogue, "Not a StreamEpilogue value.");
    }

    public IReadOnlyList<string> CompileOptions() =>
    [
        "-std=c++17",
        $"-DMARLIN_BATCH_BLOCKS={BatchBlocks}",
        $"-DMARLIN_GROUP_BLOCKS={GroupBlocks}",
        $"-DMARLIN_WARPS={Warps}",
        $"-DMARLIN_STAGE_DEPTH={StageDepth}",
        $"-DMARLIN_EPILOGUE={(int)Epilogue}",
    ];

    /// <summary>The configuration for <paramref name="rows"/> (1..16) rows.</summary>
    public static MarlinStreamConfig For(int rows, int groupSize, int warps = 4, int stageDepth = 0, StreamEpilogue epilogue = StreamEpilogue.Store)
    {
        if (rows is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(rows), rows, "The streamed kernel serves 1..16 rows.");
        return new MarlinStreamConfig(rows <= 8 ? 1 : 2, MarlinKernelConfig.GroupBlocksFor(groupSize), warps, stageDepth, epilogue);
    }

    public override string ToString() =>
        $"stream_m{RowsPerLaunch}_w{Warps}_g{(GroupBlocks == 0 ? "ch" : (GroupBlocks * 16).ToString())}{(StageDepth > 0 ? $"_d{StageDepth}" : "")}"
        + Epilogue switch
        {
            StreamEpilogue.Residual => "_residual",
            StreamEpilogue.Normed => "_normed",
            StreamEpilogue.NormedSwiGlu => "_swiglu",
            _ => "",
        };
}
