namespace MarlinSharp.Kernels;

/// <summary>
/// One compile-time instantiation of <c>marlin_stream.cu</c>, the register-streamed kernel for up to 16 rows: weights go
/// from HBM straight into registers, one 64-column chunk per warp, and a chunk's k range is split over the CTAs of a
/// thread-block cluster (see <see cref="StreamPlan"/>). Each warp copies its activations into its own small shared-memory
/// ring, so shared memory does not grow with k.
/// </summary>
/// <param name="BatchBlocks">8-row batch blocks per launch: 1 (up to 8 rows) or 2 (up to 16).</param>
/// <param name="GroupBlocks">Group size / 16 (2, 4 or 8), or 0 for per-output-channel scales.</param>
/// <param name="Warps">Warps per CTA: 4 or 8.</param>
/// <param name="ActivationRing">128-deep blocks of activations in each warp's shared-memory ring (2..4): a warp copies its
/// activations that many blocks minus one ahead of the block it computes.</param>
/// <param name="Epilogue">What the kernel does with the sums (see <see cref="StreamEpilogue"/>).</param>
/// <param name="ChunksPerCta">64-column chunks per CTA (1, 2, 4 or 8, at most <paramref name="Warps"/>): the warps of a CTA
/// that stream the same k run for different chunks share one activation ring, so A crosses L2 that many times less often;
/// each chunk then has <c>Warps / ChunksPerCta</c> warps per CTA. n must be a multiple of 64 × ChunksPerCta.</param>
/// <param name="WeightStages">0: each warp streams its weights into a ring of registers, one block ahead of the one it
/// computes. 2..4 (at least <paramref name="ActivationRing"/>): through a per-warp shared-memory ring of that many blocks
/// (cp.async), so that that many blocks minus one are in flight per warp at no register cost.</param>
public sealed record MarlinStreamConfig(int BatchBlocks, int GroupBlocks, int Warps = 4, int ActivationRing = 2,
    StreamEpilogue Epilogue = StreamEpilogue.Store, int ChunksPerCta = 1, int WeightStages = 0) : IMarlinKernelVariant
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
    /// <summary>Bytes of one staged activation row of a 128-deep block: 128 halves padded by 8 (marlin_stream.cu's a_row_words).</summary>
    public const int ActivationRowBytes = (BlockDepth + 8) * 2;

    /// <summary>Dynamic shared memory of a launch of <see cref="RowsPerLaunch"/> rows (the most any launch takes).</summary>
    public int DynamicSharedMemoryBytes => SharedBytes(RowsPerLaunch);

    /// <summary>Dynamic shared memory of a launch of <paramref name="rows"/> rows: the activation rings, then the weight rings
    /// or the partials.</summary>
    public int SharedBytes(int rows) => ActivationRingBytes(rows) + WeightRingBytes + PartialBytes;

    /// <summary>
    /// Shared memory where the warps of a CTA with several k runs per chunk (<see cref="WarpsPerChunk"/> &gt; 1) leave their
    /// FP32 partials for the CTA's own sum: 2 KiB per warp and 8-row batch block with the register ring; none with weight
    /// rings (each warp uses its own ring, done with by then) or with one k run per chunk.
    /// </summary>
    public int PartialBytes => WeightStages == 0 && WarpsPerChunk > 1 ? Warps * BatchBlocks * 2048 : 0;

    /// <summary>
    /// Shared memory of the weight rings (0 without them): per warp <see cref="WeightStages"/> stages of one block of the
    /// warp's weights (8 slabs × 32 lanes × 16 bytes) and the block's scales (8 × 16 bytes per group; none per channel).
    /// </summary>
    public int WeightRingBytes => Warps * WeightStages * (8 * 512 + (GroupBlocks == 0 ? 0 : 8 / GroupBlocks * 8 * 16));

    /// <summary>
    /// Dynamic shared memory of a launch of <paramref name="rows"/> rows: one activation ring of <see cref="ActivationRing"/>
    /// blocks of min(rows, <see cref="RowsPerLaunch"/>) rows per k run (<see cref="WarpsPerChunk"/> of them). It does not
    /// depend on k.
    /// </summary>
    public int ActivationRingBytes(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        return WarpsPerChunk * ActivationRing * Math.Min(rows, RowsPerLaunch) * ActivationRowBytes;
    }

    /// <summary>
    /// Shared memory of the cluster reduction's receive buffer (marlin_stream.cu's cfg::recv_vecs): the CTA's results come
    /// in keys of 32 units (16 bytes each; SwiGLU pairs a gate key with its up key), each reduced by CTA key % parts, which
    /// holds one partial per part of each of its keys. Sized for the worst of 1..<see cref="MaxKParts"/> parts: the keys
    /// rounded up to a multiple of the parts.
    /// </summary>
    public int ReduceReceiveBytes
    {
        get
        {
            int halves = Epilogue == StreamEpilogue.NormedSwiGlu ? 2 : 1;
            int keys = ChunksPerCta * BatchBlocks * 4 / halves, most = 0;
            for (int parts = 1; parts <= MaxKParts; parts++) most = Math.Max(most, (keys + parts - 1) / parts * parts);
            return most * halves * 32 * 16;
        }
    }

    /// <summary>Warps of a CTA that split one chunk's k range (each with its own run of blocks and activation ring).</summary>
    public int WarpsPerChunk => Warps / ChunksPerCta;

    /// <summary>Output columns one CTA covers: <see cref="ChunkWidth"/> × <see cref="ChunksPerCta"/>; n must be a multiple.</summary>
    public int CtaWidth => ChunkWidth * ChunksPerCta;

    public int RowsPerLaunch => 8 * BatchBlocks;
    public int ThreadsPerBlock => 32 * Warps;
    int IMarlinKernelVariant.BlockThreads => ThreadsPerBlock;
    public int GroupSize => GroupBlocks == 0 ? -1 : GroupBlocks * 16;

    public void Validate()
    {
        if (BatchBlocks is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(BatchBlocks), BatchBlocks, "Expected 1 (8 rows) or 2 (16 rows).");
        if (GroupBlocks is not (0 or 2 or 4 or 8)) throw new ArgumentOutOfRangeException(nameof(GroupBlocks), GroupBlocks, "Expected 0 (per-channel), 2, 4 or 8.");
        if (Warps is not (4 or 8)) throw new ArgumentOutOfRangeException(nameof(Warps), Warps, "Expected 4 or 8.");
        if (ActivationRing is < 2 or > 4) throw new ArgumentOutOfRangeException(nameof(ActivationRing), ActivationRing, "Expected 2..4 blocks.");
        if (!Enum.IsDefined(Epilogue)) throw new ArgumentOutOfRangeException(nameof(Epilogue), Epilogue, "Not a StreamEpilogue value.");
        if (ChunksPerCta is not (1 or 2 or 4 or 8) || ChunksPerCta > Warps)
            throw new ArgumentOutOfRangeException(nameof(ChunksPerCta), ChunksPerCta, $"Expected 1, 2, 4 or 8, at most Warps={Warps}.");
        if (WeightStages != 0 && (WeightStages is < 2 or > 4 || WeightStages < ActivationRing))
            throw new ArgumentOutOfRangeException(nameof(WeightStages), WeightStages, $"Expected 0 (register ring) or 2..4 stages, at least ActivationRing={ActivationRing}.");
    }

    public IReadOnlyList<string> CompileOptions() =>
    [
        "-std=c++17",
        $"-DMARLIN_BATCH_BLOCKS={BatchBlocks}",
        $"-DMARLIN_GROUP_BLOCKS={GroupBlocks}",
        $"-DMARLIN_WARPS={Warps}",
        $"-DMARLIN_A_RING={ActivationRing}",
        $"-DMARLIN_EPILOGUE={(int)Epilogue}",
        $"-DMARLIN_CHUNKS_PER_CTA={ChunksPerCta}",
        $"-DMARLIN_W_STAGES={WeightStages}",
    ];

    /// <summary>The configuration for <paramref name="rows"/> (1..16) rows.</summary>
    public static MarlinStreamConfig For(int rows, int groupSize, int warps = 4, int activationRing = 2, StreamEpilogue epilogue = StreamEpilogue.Store,
        int chunksPerCta = 1, int weightStages = 0)
    {
        if (rows is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(rows), rows, "The streamed kernel serves 1..16 rows.");
        return new MarlinStreamConfig(rows <= 8 ? 1 : 2, MarlinKernelConfig.GroupBlocksFor(groupSize), warps, activationRing, epilogue, chunksPerCta, weightStages);
    }

    public override string ToString() =>
        $"stream_m{RowsPerLaunch}_w{Warps}_g{(GroupBlocks == 0 ? "ch" : (GroupBlocks * 16).ToString())}{(ActivationRing != 2 ? $"_a{ActivationRing}" : "")}{(ChunksPerCta != 1 ? $"_c{ChunksPerCta}" : "")}{(WeightStages != 0 ? $"_s{WeightStages}" : "")}"
        + Epilogue switch
        {
            StreamEpilogue.Residual => "_residual",
            StreamEpilogue.Normed => "_normed",
            StreamEpilogue.NormedSwiGlu => "_swiglu",
            _ => "",
        };
}
