using MarlinSharp.Cuda;

namespace MarlinSharp.Kernels;

/// <summary>
/// Chooses the kernel configuration for one launch of at most 64 rows. Small batches stream the weights with
/// swapped operands and, up to 16 rows, two CTAs per SM (few registers, many warps in flight); larger batches
/// are tensor-core bound and want the 256-column tile that amortises each dequantised weight over more rows.
/// The choices are measurements on an H200 (docs/NOTES.md), not a model.
/// </summary>
public static class MarlinKernelSelector
{
    /// <summary>Shared memory an SM keeps for itself per resident CTA.</summary>
    private const int ReservedPerCta = 1024;

    /// <summary>Deepest pipeline the selector uses; deeper rings showed no gain on an H200 (see docs/NOTES.md).</summary>
    private const int MaxStages = 6;

    public static MarlinKernelConfig Select(int rows, int n, int k, int groupSize, DeviceInfo device)
    {
        if (rows is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(rows), rows, "One launch covers 1..64 rows.");
        ArgumentNullException.ThrowIfNull(device);
        int groupBlocks = MarlinKernelConfig.GroupBlocksFor(groupSize);
        int widest = n % 256 == 0 ? 256 : n % 128 == 0 ? 128 : 64;
        bool smallLayer = (long)(n / 256) * (k / 128) < 24L * device.MultiprocessorCount;
        // Small layers: narrower tiles give each CTA whole columns more often, so fewer partial sums cross L2
        // (H200, m = 16: 4096x12288 0.0241 -> 0.0230 ms, 11008x4096 0.0290 -> 0.0228 ms with 128-wide tiles).
        while (widest > 128 && (long)(n / widest) * (k / 128) < 24L * device.MultiprocessorCount) widest /= 2;
        while (widest > 64 && (long)(n / widest) * (k / 128) < 4L * device.MultiprocessorCount) widest /= 2;

        MarlinKernelConfig config;
        // Swapped operands (weights as the mma A operand, scales applied per group in FP32) were measured and
        // compile spill-free on Hopper; at 16 and 32 rows with 32-wide groups they spill, so those keep the plain layout.
        bool hopper = device.ComputeCapabilityMajor >= 9;
        bool swapWide = hopper && groupBlocks != 2;
        if (rows <= 16)
        {
            // Weight streaming: two CTAs per SM where they fit (H200, peak shape: m = 1 0.216 ms, m = 16 0.285 ms).
            int swap = rows <= 8 ? 1 : swapWide ? 2 : 0;
            // Small layers at 9..16 rows: plain 16-row tiles measured 1-5% faster than swapped ones on every Llama-2-7B
            // and -70B layer (H200, PDL on: 4096x12288 0.0177 -> 0.0174 ms, 11008x4096 0.0187 -> 0.0179, 8192x8192
            // 0.0221 -> 0.0212), and 64-wide tiles where even 128-wide ones leave under 8 tiles per SM (4096x4096:
            // 0.0125 -> 0.0103 ms). Large layers keep the swapped layout (peak shape: 0.236 against 0.27 ms).
            if (rows > 8 && smallLayer)
            {
                swap = 0;
                if (widest > 64 && (long)(n / widest) * (k / 128) < 8L * device.MultiprocessorCount) widest = 64;
            }
            // 9..16 swapped rows: TMA bulk weight copies free the issue slots that per-thread copies take from the
            // heavier compute (H200, peak shape, m = 16: 0.273 -> 0.236 ms). The deepest ring that fits twice is taken
            // (3 stages for 256-wide bulk tiles). For 1..8 rows see the bulk ring below.
            config = new MarlinKernelConfig(1, widest, 128, Stages: 4, groupBlocks, CtasPerSm: 1, SwapAb: swap, BulkWeights: swap == 2);
            for (int stages = MaxStages; stages >= 3; stages--)
            {
                var twice = config with { Stages = stages, CtasPerSm = 2 };
                if (FitsTwice(twice, device)) { config = twice; break; }
            }
            // 1..8 rows on layers with at least 16 256-wide tiles per SM: TMA bulk weight copies into a 3-deep ring of
            // 256-wide stages, two CTAs per SM, stream faster than per-thread cp.async (H200, PDL on, peak shape:
            // m = 1 0.2029 -> 0.1828 ms, m = 8 0.2286 -> 0.2025; 8192x28672 0.0408 -> 0.0364; 4096x22016 0.0191 ->
            // 0.0182). Smaller layers keep cp.async (11008x4096: 0.0128 against 0.0167 with bulk copies).
            var bulk = new MarlinKernelConfig(1, 256, 128, Stages: 3, groupBlocks, CtasPerSm: 2, SwapAb: 1, BulkWeights: true);
            if (rows <= 8 && swapWide && n % 256 == 0 && (long)(n / 256) * (k / 128) >= 16L * device.MultiprocessorCount && FitsTwice(bulk, device))
                config = bulk;
        }
        else if (rows <= 32 && swapWide && widest == 256)
        {
            // H200, peak shape, m = 32: 0.394 ms swapped against 0.425 ms plain; 0.368 ms with bulk weight copies in a
            // 4-deep ring, 0.335 ms in a 3-deep one (PDL on: 0.3577 -> 0.3354).
            config = new MarlinKernelConfig(2, 256, 128, Stages: 3, groupBlocks, SwapAb: 4, BulkWeights: true);
        }
        else
        {
            // Tensor-core bound: the widest tile and a 128-deep stage amortise dequantisation and barriers best
            // (H200, peak shape, m = 64: 256x128 0.668 ms, 256x64 0.713 ms, 128x128 0.795 ms).
            int mBlocks = (rows + 15) / 16;
            config = new MarlinKernelConfig(mBlocks, widest, 128, Stages: 4, groupBlocks);
            // Hopper: TMA bulk weight copies into a 3-deep ring (H200, PDL on, peak shape, m = 64: 0.618 ms with a
            // 3-deep cp.async ring, 0.625 with a 4-deep bulk one, 0.556 with a 3-deep bulk one; 128-wide small layers
            // 5-6% faster too: 4096x12288 0.0366 -> 0.0346 ms, 11008x4096 0.0384 -> 0.0363).
            if (rows > 32 && swapWide && widest >= 128)
                config = config with { Stages = 3, BulkWeights = true };
        }

        // Fit the shared-memory budget of smaller parts (sm_86/sm_89 give a block 99 KB) by trimming depth, then width.
        while (config.SharedMemoryBytes > device.MaxSharedMemoryPerBlockOptin && config.Stages > 2)
            config = config with { Stages = config.Stages - 1 };
        if (config.SharedMemoryBytes > device.MaxSharedMemoryPerBlockOptin && config.TileN > 64)
            config = config with { TileN = 64, TileK = 128, Stages = 3 };
        if (config.SharedMemoryBytes > device.MaxSharedMemoryPerBlockOptin)
            throw new NotSupportedException($"{device.Name} offers {device.MaxSharedMemoryPerBlockOptin} bytes of shared memory per block; configuration {config} needs {config.SharedMemoryBytes}.");
        return config;
    }

    /// <summary>Most rows the streamed kernel is chosen for.</summary>
    public const int MaxStreamedRows = 16;

    /// <summary>Upper bound of marlin_stream.cu's static shared memory (checked against the assembler's report by the compile
    /// tests): the cluster reduction's receive buffer (<see cref="MarlinStreamConfig.ReduceReceiveBytes"/>) and the row
    /// norms.</summary>
    internal static int StreamStaticSharedBytes(MarlinStreamConfig config) => config.ReduceReceiveBytes + 32 * config.BatchBlocks;

    /// <summary>Deepest k the streamed kernel is chosen for: deeper layers stream better through the dense kernel's ring.</summary>
    private const int MaxStreamedDepth = 16384;

    /// <summary>
    /// The kernel for one launch of at most 64 rows. Where <paramref name="allowStream"/> and the GPU has thread-block
    /// clusters (compute capability 9.0+), layers at up to <see cref="MaxStreamedRows"/> rows take the register-streamed
    /// <see cref="MarlinStreamConfig"/>: 8 warps per CTA where the 64-column chunks fit one per SM, 4 warps (three CTAs per
    /// SM) where they fit three per SM, up to k = 16384; everything else <see cref="Select"/>'s <c>marlin_dense.cu</c>
    /// configuration.
    /// <para>
    /// Measured on an H200 with per-warp activation rings (docs/NOTES.md, session 8), INT4 ms, streamed against the dense
    /// kernel: Llama-2-7B layers summed m = 1 0.0402 against 0.0522, m = 8 0.0488 against 0.0536, m = 16 0.0594 against
    /// 0.0725 (4096x22016 m = 16 0.0234 against 0.0262, 4096x12288 0.0146 against 0.0175); Llama-2-70B's 8192x8192 m = 16
    /// 0.0157 against 0.0210. Deeper layers (28672x8192 m = 12 0.0590 against 0.0493) and the peak shape (m = 1 0.195
    /// against 0.177, m = 16 0.313 against 0.240) keep the dense kernel, whose 256-column tiles share each activation
    /// load over four times as many columns.
    /// </para>
    /// </summary>
    public static IMarlinKernelVariant Choose(int rows, int n, int k, int groupSize, DeviceInfo device, bool allowStream = true)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (allowStream && rows is >= 1 and <= MaxStreamedRows && device.ComputeCapabilityMajor >= 9 && n % MarlinStreamConfig.ChunkWidth == 0
            && k % MarlinStreamConfig.BlockDepth == 0 && k <= MaxStreamedDepth)
        {
            long chunks = n / MarlinStreamConfig.ChunkWidth;
            // Every warp's activation ring and the static partials must fit `perSm` CTAs at once.
            bool fits(MarlinStreamConfig c, int perSm) =>
                perSm * (c.SharedBytes(rows) + StreamStaticSharedBytes(c) + ReservedPerCta) <= device.MaxSharedMemoryPerBlockOptin + ReservedPerCta;
            var eight = WithRings(MarlinStreamConfig.For(rows, groupSize, warps: 8, chunksPerCta: ChunksPerCta(rows, n, 8)), device);
            if (chunks <= device.MultiprocessorCount && fits(eight, 1)) return eight;
            var four = WithRings(MarlinStreamConfig.For(rows, groupSize, warps: 4, chunksPerCta: ChunksPerCta(rows, n, 4)), device);
            if (chunks <= 3L * device.MultiprocessorCount && fits(four, 3)) return four;
        }
        return Select(rows, n, k, groupSize, device);
    }

    /// <summary>
    /// Most rows a decoder layer runs with fused epilogues (<see cref="ChooseFused"/>). Every layer then takes the streamed
    /// kernel, because a fused layer saves the launches of the norm and SwiGLU kernels. Llama-2-7B decode, H200, same call
    /// (docs/NOTES.md, session 6, activations staged in shared memory): batch 1 1.598 ms/token fused against 1.764 unfused,
    /// batch 4 1.721 against 1.900, batch 8 1.884 against 2.096. Session 8, with per-warp activation rings (so that 16 rows
    /// stream on every layer): batch 8 1.872 against 2.175, batch 16 2.570 against 2.639.
    /// </summary>
    public const int MaxFusedRows = 16;

    /// <summary>
    /// The streamed configuration for a fused-epilogue launch of <paramref name="rows"/> rows (1..16): 8 warps per CTA
    /// where the 64-column chunks fit one per SM, otherwise 4 (three CTAs per SM, so wide layers still run in one wave).
    /// </summary>
    public static MarlinStreamConfig ChooseFused(int rows, int n, int groupSize, DeviceInfo device, StreamEpilogue epilogue)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (n <= 0 || n % MarlinStreamConfig.ChunkWidth != 0)
            throw new ArgumentException($"n={n} must be a positive multiple of {MarlinStreamConfig.ChunkWidth}.", nameof(n));
        int warps = n / MarlinStreamConfig.ChunkWidth <= device.MultiprocessorCount ? 8 : 4;
        return WithRings(MarlinStreamConfig.For(rows, groupSize, warps, epilogue: epilogue, chunksPerCta: ChunksPerCta(rows, n, warps)), device);
    }

    /// <summary>Development switch for measurements: every streamed launch keeps its weights in a register ring
    /// (MARLINSHARP_STREAM_REGISTER_RING=1), as before the shared weight ring.</summary>
    private static readonly bool ForceRegisterRing = Environment.GetEnvironmentVariable("MARLINSHARP_STREAM_REGISTER_RING") == "1";

    /// <summary>Development switch for measurements: MARLINSHARP_STREAM_RINGS="S8,A8,S4,A4,S16,A16" sets the weight stages (0:
    /// register ring) and activation ring of 8-warp launches, 4-warp launches up to 8 rows and 4-warp launches of 9..16 rows;
    /// MARLINSHARP_STREAM_CAP=N caps 4-warp launches with a shared weight ring at N CTAs per SM instead of the rule.</summary>
    private static readonly int[]? ForcedRings = ParseRings(Environment.GetEnvironmentVariable("MARLINSHARP_STREAM_RINGS"));
    private static readonly int ForcedCap = int.TryParse(Environment.GetEnvironmentVariable("MARLINSHARP_STREAM_CAP"), out int cap) && cap is >= 1 and <= 8 ? cap : 0;

    private static int[]? ParseRings(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var parts = text.Split(',');
        if (parts.Length != 6) return null;
        var values = new int[6];
        for (int i = 0; i < 6; i++)
            if (!int.TryParse(parts[i], out values[i])) return null;
        return values;
    }

    /// <summary>
    /// <paramref name="config"/> with the weight and activation rings it takes on <paramref name="device"/>:
    /// <list type="bullet">
    /// <item>8-warp CTAs (narrow layers, k split over clusters): a shared weight ring of 4 stages up to 8 rows (three blocks
    /// in flight per warp) and 3 at 9..16 rows (4 do not fit beside 16-row activations), activations 2 blocks ahead. It
    /// also needs 96..158 registers against 133..253. Up to 8 rows, 4 stages (one CTA per SM, k split in 2) measured faster
    /// than 3 (two CTAs per SM, k split in 3): H100 e2e batch 1 1.722 / 1.709 ms against 1.743 / 1.728 (step 131).</item>
    /// <item>4-warp CTAs at up to 8 rows (the wide fused layers, unsplit): a 3-stage shared weight ring, activations 1 block
    /// ahead, launched with <see cref="StreamSharedBytes"/>'s cap on CTAs per SM.</item>
    /// <item>4-warp CTAs at 9..16 rows: the register ring (the shared ring measured slower there, capped or not).</item>
    /// </list>
    /// Where the shared rings would not fit the device's shared memory, fewer stages, then the register ring. H100, llama2-7b e2e
    /// (docs/NOTES.md, step 130), INT4 ms per token, register rings against 3-stage rings on 8-warp and ≤8-row 4-warp CTAs:
    /// batch 1 1.891 / 1.881 against 1.765 / 1.758, batch 16 2.432 / 2.438 against 2.369 / 2.383. At 9..16 rows on 4-warp
    /// CTAs, activations further ahead (2 or 3 blocks) and the shared weight ring were all slower (step 132).
    /// </summary>
    internal static MarlinStreamConfig WithRings(MarlinStreamConfig config, DeviceInfo device)
    {
        var registers = config with { WeightStages = 0, ActivationRing = 2 };
        if (ForcedRings is null && (ForceRegisterRing || (config.Warps == 4 && config.BatchBlocks == 2))) return registers;
        var staged = config.Warps == 4 ? config with { WeightStages = 3, ActivationRing = 2 }
            : config.BatchBlocks == 1 ? config with { WeightStages = 4, ActivationRing = 3 }
            : config with { WeightStages = 3, ActivationRing = 3 };
        MarlinStreamConfig[] candidates = ForcedRings is { } forced
            ? [config with { WeightStages = forced[RingSwitchIndex(config)], ActivationRing = forced[RingSwitchIndex(config) + 1] }]
            : [staged, staged with { WeightStages = 3 }, staged with { WeightStages = 2, ActivationRing = 2 }];
        foreach (var candidate in candidates)
            if (candidate.DynamicSharedMemoryBytes + StreamStaticSharedBytes(candidate) <= device.MaxSharedMemoryPerBlockOptin) return candidate;
        return registers;
    }

    /// <summary>Where <paramref name="config"/>'s weight stages stand in MARLINSHARP_STREAM_RINGS (its activation ring follows).</summary>
    private static int RingSwitchIndex(MarlinStreamConfig config) => config.Warps == 8 ? 0 : config.BatchBlocks == 1 ? 2 : 4;

    /// <summary>
    /// Dynamic shared memory to launch <paramref name="config"/> with over <paramref name="rows"/> rows of a layer of
    /// <paramref name="n"/> columns: what its rings need, and for 4-warp CTAs with a shared weight ring more, so that an SM
    /// holds no more of them than the grid needs to be resident at once (at least 2). With ~53 KB each, four CTAs stacked on
    /// one SM while others idled, and a CTA's loop took 12.6 µs there against 7.3 alone (docs/NOTES.md, step 129).
    /// </summary>
    internal static int StreamSharedBytes(MarlinStreamConfig config, int rows, int n, DeviceInfo device)
    {
        int need = config.SharedBytes(rows);
        if (config.Warps != 4 || config.WeightStages == 0 || device.MultiprocessorCount <= 0) return need;
        int ctasPerSm = ForcedCap > 0 ? ForcedCap : Math.Max(2, (n / config.CtaWidth + device.MultiprocessorCount - 1) / device.MultiprocessorCount);
        int perSm = device.MaxSharedMemoryPerBlockOptin + ReservedPerCta;
        int cap = perSm / (ctasPerSm + 1) - ReservedPerCta - StreamStaticSharedBytes(config) + 128;
        return Math.Clamp(cap, need, Math.Max(need, device.MaxSharedMemoryPerBlockOptin - StreamStaticSharedBytes(config)));
    }

    /// <summary>Development switch for measurements: the chunks per CTA (1, 2, 4 or 8) that streamed launches of 9..16 rows use
    /// wherever n and the warp count allow, read from MARLINSHARP_STREAM_CHUNKS; 0 (unset) keeps <see cref="ChunksPerCta"/>'s rule.</summary>
    private static readonly int ForcedChunksPerCta =
        int.TryParse(Environment.GetEnvironmentVariable("MARLINSHARP_STREAM_CHUNKS"), out int forced) && forced is 1 or 2 or 4 or 8 ? forced : 0;

    /// <summary>Every value <see cref="ChunksPerCta"/> returns for <paramref name="rows"/> and <paramref name="warps"/> as n varies:
    /// the preferred count (n = 512 allows any) and its halvings.</summary>
    private static IEnumerable<int> ChunkSharings(int rows, int warps)
    {
        for (int chunks = ChunksPerCta(rows, 8 * MarlinStreamConfig.ChunkWidth, warps); chunks >= 1; chunks /= 2) yield return chunks;
    }

    /// <summary>
    /// Chunks per CTA (<see cref="MarlinStreamConfig.ChunksPerCta"/>) of a streamed launch of <paramref name="rows"/> rows over
    /// <paramref name="n"/> columns with <paramref name="warps"/> warps: 4 for 4-warp CTAs at 9..16 rows (halved until n
    /// allows it), otherwise 1. H200, same call (docs/NOTES.md, session 9), INT4 ms at 16 rows, 4 warps with 1 / 2 / 4 chunks
    /// per CTA: 4096x22016 0.0235 / 0.0191 / 0.0185, 8192x10240 0.0209 / 0.0182 / 0.0184, 4096x12288 0.0145 / 0.0144 /
    /// 0.0148; e2e llama2-7b batch 16 (fused, 4 warps on qkv and gate|up) 2.563 / 2.471 / 2.464 ms per token. Up to 8 rows
    /// the activations are too small to matter and the shared ring's barrier costs: batch 1 1.604 / 1.696 / 1.765 ms. The
    /// 8-warp CTAs of narrow layers keep their own rings (4096x4096 at 16 rows 0.0079 alone, 0.0081 in pairs).
    /// </summary>
    internal static int ChunksPerCta(int rows, int n, int warps)
    {
        int chunks = rows <= 8 ? 1 : ForcedChunksPerCta > 0 ? ForcedChunksPerCta : warps == 4 ? 4 : 1;
        while (chunks > 1 && (chunks > warps || n % (MarlinStreamConfig.ChunkWidth * chunks) != 0)) chunks /= 2;
        return chunks;
    }

    /// <summary>Every configuration <see cref="ChooseFused"/> can return for up to <see cref="MaxFusedRows"/> rows (none before compute capability 9.0).</summary>
    public static IReadOnlyList<MarlinStreamConfig> FusedCandidates(DeviceInfo device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.ComputeCapabilityMajor < 9) return [];
        return
        [
            .. from groupSize in new[] { -1, 32, 64, 128 }
               from warps in new[] { 4, 8 }
               from epilogue in new[] { StreamEpilogue.Residual, StreamEpilogue.Normed, StreamEpilogue.NormedSwiGlu }
               from rows in new[] { 8, MaxFusedRows }
               from chunksPerCta in ChunkSharings(rows, warps)
               select WithRings(MarlinStreamConfig.For(rows, groupSize, warps, epilogue: epilogue, chunksPerCta: chunksPerCta), device),
        ];
    }

    /// <summary>Every streamed configuration <see cref="Choose"/> can return on <paramref name="device"/> (none before compute capability 9.0).</summary>
    public static IReadOnlyList<MarlinStreamConfig> StreamCandidates(DeviceInfo device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.ComputeCapabilityMajor < 9) return [];
        return
        [
            .. from groupSize in new[] { -1, 32, 64, 128 }
               from rows in new[] { 8, MaxStreamedRows }
               from warps in new[] { 4, 8 }
               from chunksPerCta in ChunkSharings(rows, warps)
               select WithRings(MarlinStreamConfig.For(rows, groupSize, warps, chunksPerCta: chunksPerCta), device),
        ];
    }

    /// <summary>
    /// Fewest rows a launch of the wgmma kernel (<see cref="MarlinWideConfig"/>) is chosen for on every layer. H200, peak shape
    /// (docs/NOTES.md, session 7): m = 32 0.264 ms against 0.331 ms for the swapped mma.sync kernel, which costs the same from
    /// 17 rows on (it computes 32 rows either way). From 9 rows it is chosen where the streamed kernel would not run 8 warps
    /// (see <see cref="ChooseLaunch"/>); up to 8 rows the streamed and swapped kernels keep the weights' pace.
    /// </summary>
    public const int MinWideRows = 17;

    /// <summary>Whether <paramref name="device"/> with NVRTC <paramref name="nvrtcVersion"/> can run the wgmma kernel: compute
    /// capability 9.0 exactly (wgmma is an sm_90a feature, absent from later architectures) and NVRTC 12.0 or newer.</summary>
    public static bool SupportsWide(DeviceInfo device, Version nvrtcVersion)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(nvrtcVersion);
        return HasWgmma(device) && nvrtcVersion.Major >= 12;
    }

    /// <summary>wgmma is an sm_90a feature: compute capability 9.0 exactly, absent from later architectures.</summary>
    private static bool HasWgmma(DeviceInfo device) => device.ComputeCapabilityMajor == 9 && device.ComputeCapabilityMinor == 0;

    /// <summary>
    /// The wgmma configuration for a launch of <paramref name="rows"/> rows (it covers up to 128; fewer rows take the narrowest
    /// N that holds them). Measured on an H200, peak shape (docs/NOTES.md, session 7), INT4 ms: 32 rows with two CTAs per SM
    /// and a 3-deep ring 0.264 (one CTA, 4 deep: 0.293; session 10 below); 64 rows with one CTA, 4 deep 0.392 (two CTAs 0.403, 64-deep stages
    /// 0.437-0.444); 128 rows 4 deep 0.641 at m = 128 and 5.04 at m = 1024 (64-deep stages 0.683 / 5.48).
    /// </summary>
    public static MarlinWideConfig Wide(int rows, int groupSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        int groupBlocks = MarlinKernelConfig.GroupBlocksFor(groupSize);
        return rows switch
        {
            // H200, peak shape (session 8): m = 12 0.2257 ms, m = 16 0.2361 with two CTAs per SM and a 4-deep ring (3 deep
            // 0.2287 / 0.2386, one CTA 0.2454 / 0.2502); the swapped mma.sync kernel 0.2353 / 0.2442. With grouped scales on
            // FP32 sums (session 10), m = 16: 3 / 4 / 5 / 6 deep 0.2079 / 0.2038 / 0.2045 / 0.2263, one CTA 0.2237.
            <= 16 => new MarlinWideConfig(16, 128, Stages: 4, groupBlocks, CtasPerSm: 2),
            // Session 10, m = 32, two CTAs: 3 / 4 / 5 deep 0.2610 / 0.2567 / 0.2753; one CTA 4 deep 0.2718.
            <= 32 => new MarlinWideConfig(32, 128, Stages: 4, groupBlocks, CtasPerSm: 2),
            // Session 10, m = 64, one CTA: 3 / 4 / 5 / 6 deep 0.3804 / 0.3795 / 0.3766 / 0.3773; two CTAs 0.5865.
            <= 64 => new MarlinWideConfig(64, 128, Stages: 4, groupBlocks),
            _ => new MarlinWideConfig(128, 128, Stages: 4, groupBlocks),
        };
    }

    /// <summary>Every configuration <see cref="Wide"/> can return.</summary>
    public static IReadOnlyList<MarlinWideConfig> WideCandidates() =>
        [.. from groupSize in new[] { -1, 32, 64, 128 } from rows in new[] { 16, 32, 64, 128 } select Wide(rows, groupSize)];

    /// <summary>
    /// The kernel for the next launch of a batch with <paramref name="rows"/> rows still to do (any number): the wgmma kernel
    /// where <paramref name="allowWide"/> and the layer suits it (n a multiple of 256, k of 128, compute capability 9.0) and
    /// either at least <see cref="MinWideRows"/> rows, or more than 8 rows where <see cref="Choose"/> would not take the
    /// 8-warp streamed kernel; otherwise <see cref="Choose"/> for the next 64 rows. The launch covers min(rows, the
    /// configuration's rows per launch).
    /// <para>
    /// 9..16 rows, H200 (docs/NOTES.md, session 8), INT4 ms, wgmma N = 16 against the selected mma.sync kernel: wins where
    /// the streamed kernel needs 4 warps or is not chosen (4096x12288 0.0136 against 0.0146, 4096x22016 0.0203 against
    /// 0.0234, 8192x10240 0.0191 against 0.0209, 8192x57344 0.0838 against 0.0893, 28672x8192 0.0448 against 0.0498, peak
    /// shape 0.2361 against 0.2442), loses where 8 streamed warps cover every chunk (4096x4096 0.0109 against 0.0079,
    /// 11008x4096 0.0156 against 0.0136, 8192x8192 0.0166 against 0.0157).
    /// </para>
    /// </summary>
    public static IMarlinKernelVariant ChooseLaunch(int rows, int n, int k, int groupSize, DeviceInfo device, bool allowStream = true, bool allowWide = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        bool wideFits = allowWide && n % MarlinWideConfig.TileN == 0 && k % 128 == 0 && HasWgmma(device);
        if (wideFits && rows >= MinWideRows) return Wide(rows, groupSize);
        IMarlinKernelVariant small = Choose(Math.Min(rows, MarlinGemm.MaxRowsPerLaunch), n, k, groupSize, device, allowStream);
        return wideFits && rows > 8 && small is not MarlinStreamConfig { Warps: 8 } ? Wide(rows, groupSize) : small;
    }

    private static bool FitsTwice(MarlinKernelConfig config, DeviceInfo device) =>
        2 * (config.SharedMemoryBytes + ReservedPerCta) <= device.MaxSharedMemoryPerBlockOptin + ReservedPerCta;

    /// <summary>Every configuration <see cref="Select"/> can return on <paramref name="device"/> (for warm-up and compile checks).</summary>
    public static IReadOnlyList<MarlinKernelConfig> Candidates(DeviceInfo device)
    {
        var configs = new HashSet<MarlinKernelConfig>();
        foreach (int groupSize in new[] { -1, 32, 64, 128 })
            foreach (int n in new[] { 64, 128, 256 })
                foreach (int k in new[] { 128, 1 << 20 })   // small layers narrow the tile; large ones keep it
                    for (int rows = 1; rows <= 64; rows++)
                        configs.Add(Select(rows, n, k, groupSize, device));
        return [.. configs.OrderBy(c => c.ToString(), StringComparer.Ordinal)];
    }
}
