namespace MarlinSharp.Kernels;

/// <summary>
/// One compile-time instantiation of <c>marlin_wgmma.cu</c>, the Hopper kernel for wide batches: the weights, dequantised in
/// registers, are the register A operand of <c>wgmma.mma_async</c> and the activations its shared-memory B operand, so one
/// launch covers up to <see cref="Rows"/> batch rows with the warpgroup tensor-core instructions. Compiled for
/// <c>sm_90a</c> only (wgmma has no forward-compatible form), with NVRTC 12 or newer.
/// </summary>
/// <param name="Rows">Batch rows per launch, the wgmma N: 32, 64 or 128.</param>
/// <param name="TileK">k depth of one pipeline stage: 64 or 128.</param>
/// <param name="Stages">Depth of the shared-memory ring (3..6); Stages - 2 tiles are in flight.</param>
/// <param name="GroupBlocks">Group size / 16 (2, 4 or 8), or 0 for per-output-channel scales.</param>
/// <param name="CtasPerSm">Resident CTAs per SM (1 or 2) the registers and shared memory are sized for.</param>
public sealed record MarlinWideConfig(int Rows, int TileK, int Stages, int GroupBlocks, int CtasPerSm = 1) : IMarlinKernelVariant
{
    public const string KernelEntryPoint = "marlin_wgmma";
    public const int ThreadsPerBlock = 256;

    /// <summary>Output columns per CTA tile (two warpgroups of 128).</summary>
    public const int TileN = 256;

    /// <summary>Most rows one launch covers.</summary>
    public const int MaxRows = 128;

    public string SourceName => KernelSources.WideMarlin;
    public string EntryPoint => KernelEntryPoint;
    public int BlockThreads => ThreadsPerBlock;
    public int RowsPerLaunch => Rows;
    public int GroupSize => GroupBlocks == 0 ? -1 : GroupBlocks * 16;

    /// <summary>wgmma exists only in the architecture-specific target of compute capability 9.0.</summary>
    public string ArchitectureFor(string deviceArchitecture) => deviceArchitecture == "sm_90" ? "sm_90a" : deviceArchitecture;

    /// <summary>Mirrors <c>cfg::smem_bytes</c> in the kernel (the kernel traps if it gets less): per stage the activation swizzle
    /// atoms, the weights and the scale rows, rounded up to 1024 bytes, plus 1024 bytes to align the ring.</summary>
    public int DynamicSharedMemoryBytes
    {
        get
        {
            int slabs = TileK / 16;
            int activations = TileK / 64 * Rows * 128;
            int weights = slabs * TileN * 8;
            int scaleRows = GroupBlocks == 0 ? 0 : TileK >= 16 * GroupBlocks ? TileK / (16 * GroupBlocks) : 1;
            int stage = (activations + weights + scaleRows * TileN * 2 + 1023) / 1024 * 1024;
            return Stages * stage + 1024;
        }
    }

    /// <summary>Floats in one CTA's partial-sum slot of the global-reduction workspace.</summary>
    public int PartialFloats => Rows * TileN;

    public void Validate()
    {
        if (Rows is not (16 or 32 or 64 or 128)) throw new ArgumentOutOfRangeException(nameof(Rows), Rows, "Expected 16, 32, 64 or 128.");
        if (Rows == 16 && TileK != 128) throw new ArgumentOutOfRangeException(nameof(TileK), TileK, "16 rows need TileK = 128 (one 16-byte copy per thread per stage).");
        if (TileK is not (64 or 128)) throw new ArgumentOutOfRangeException(nameof(TileK), TileK, "Expected 64 or 128.");
        if (Stages is < 3 or > 6) throw new ArgumentOutOfRangeException(nameof(Stages), Stages, "Expected 3..6.");
        if (CtasPerSm is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(CtasPerSm), CtasPerSm, "Expected 1 or 2.");
        if (GroupBlocks is not (0 or 2 or 4 or 8)) throw new ArgumentOutOfRangeException(nameof(GroupBlocks), GroupBlocks, "Expected 0 (per-channel), 2, 4 or 8.");
    }

    public IReadOnlyList<string> CompileOptions() =>
    [
        "-std=c++17",
        $"-DMARLIN_ROWS={Rows}",
        $"-DMARLIN_TILE_K={TileK}",
        $"-DMARLIN_STAGES={Stages}",
        $"-DMARLIN_GROUP_BLOCKS={GroupBlocks}",
        $"-DMARLIN_CTAS_PER_SM={CtasPerSm}",
    ];

    public override string ToString() => $"wgmma_m{Rows}_k{TileK}_s{Stages}_g{(GroupBlocks == 0 ? "ch" : (GroupBlocks * 16).ToString())}{(CtasPerSm > 1 ? $"_x{CtasPerSm}" : "")}";
}
