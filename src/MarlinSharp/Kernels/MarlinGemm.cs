using System.Runtime.InteropServices;
using MarlinSharp.Cuda;
using MarlinSharp.Layers;

namespace MarlinSharp.Kernels;

/// <summary>
/// The launcher of <c>marlin_dense.cu</c>: C[rows][n] = A[rows][k] · dequant(B), FP16 in and out, FP32 accumulation.
/// Every argument is validated here, before anything is launched. Large batches run as consecutive launches on the same
/// stream: slices of up to 128 rows through the wgmma kernel where it serves (<see cref="MarlinWideConfig"/>), of 64 rows
/// otherwise.
/// </summary>
public static class MarlinGemm
{
    /// <summary>Most rows one launch of the mma.sync kernels (<c>marlin_dense.cu</c>, <c>marlin_stream.cu</c>) covers.</summary>
    public const int MaxRowsPerLaunch = 64;

    [StructLayout(LayoutKind.Sequential)]
    private struct Problem   // mirrors `struct Problem` in marlin_dense.cu and marlin_wgmma.cu
    {
        public ulong A, B, S, C, Workspace, Counters;
        public int M, N, K;
    }

    /// <summary>
    /// Multiplies <paramref name="rows"/> rows of <paramref name="a"/> (row-major [rows][k]) by the weights and writes
    /// <paramref name="c"/> (row-major [rows][n]). Asynchronous on <paramref name="stream"/>.
    /// </summary>
    /// <param name="configOverride">Forces one kernel configuration (tuning and tests); null lets the selector choose.</param>
    public static void Multiply(MarlinRuntime runtime, DeviceSpan<Half> a, MarlinDeviceWeights weights, DeviceSpan<Half> c, int rows,
        CudaStream stream, IMarlinKernelVariant? configOverride = null)
    {
        ValidateObjects(runtime, weights, stream);

        int k = weights.Layout.InFeatures, n = weights.Layout.OutFeatures, groupSize = KernelGroupSize(weights.Layout);
        ValidateOperands(a, c, rows, k, n);
        if (configOverride is not null) ValidateOverride(configOverride, rows, n, k, groupSize);

        if (configOverride is MarlinWideConfig && !runtime.CanRunWideKernel)
            throw new ArgumentException($"Configuration {configOverride} needs a GPU of compute capability 9.0 and NVRTC 12 or newer; "
                + $"this is {runtime.Device.Name} (sm_{runtime.Device.ComputeCapabilityMajor}{runtime.Device.ComputeCapabilityMinor}).", nameof(configOverride));

        if (configOverride is not null && configOverride.DynamicSharedMemoryBytes > runtime.Device.MaxSharedMemoryPerBlockOptin)
            throw new ArgumentException($"Configuration {configOverride} needs {configOverride.DynamicSharedMemoryBytes} bytes of shared memory per block; "
                + $"{runtime.Device.Name} offers {runtime.Device.MaxSharedMemoryPerBlockOptin}.", nameof(configOverride));

        DeviceInfo device = runtime.Device;
        for (int row0 = 0; row0 < rows;)
        {
            int remaining = rows - row0;
            IMarlinKernelVariant variant = configOverride
                ?? MarlinKernelSelector.ChooseLaunch(remaining, n, k, groupSize, device, runtime.StreamSmallBatches, runtime.WideBatches);
            int sliceRows = Math.Min(remaining, variant is MarlinWideConfig wide ? wide.Rows : MaxRowsPerLaunch);
            ulong aSlice = a.Pointer + (ulong)row0 * (ulong)k * 2, cSlice = c.Pointer + (ulong)row0 * (ulong)n * 2;
            switch (variant)
            {
                case MarlinStreamConfig streamed:
                    LaunchStreamed(runtime, streamed, aSlice, weights, cSlice, sliceRows, stream);
                    break;
                case MarlinWideConfig wideConfig:
                    LaunchStriped(runtime, wideConfig, MarlinWideConfig.TileN, wideConfig.TileK, device.MultiprocessorCount * wideConfig.CtasPerSm, wideConfig.PartialFloats,
                        wideConfig.DynamicSharedMemoryBytes, aSlice, weights, cSlice, sliceRows, stream);
                    break;
                default:
                    var dense = (MarlinKernelConfig)variant;
                    LaunchStriped(runtime, dense, dense.TileN, dense.TileK, dense.MaxCtas(device.MultiprocessorCount, n), dense.PartialFloats,
                        dense.SharedMemoryBytes, aSlice, weights, cSlice, sliceRows, stream);
                    break;
            }
            row0 += sliceRows;
        }
    }

    /// <summary>The kernels that walk the (column tile × k tile) space in stripes, one per CTA, and sum split columns through
    /// the workspace (<c>marlin_dense.cu</c> and <c>marlin_wgmma.cu</c>, which share their parameter block).</summary>
    private static void LaunchStriped(MarlinRuntime runtime, IMarlinKernelVariant config, int tileN, int tileK, int maxCtas, int partialFloats, int sharedBytes,
        ulong a, MarlinDeviceWeights weights, ulong c, int rows, CudaStream stream)
    {
        int k = weights.Layout.InFeatures, n = weights.Layout.OutFeatures;
        StreamResources resources = runtime.ResourcesFor(stream);
        var plan = new StripePlan(n, k, tileN, tileK, maxCtas);
        var (partials, counters) = resources.Workspace(plan.WorkspaceBytes(partialFloats), plan.ColumnTiles, stream);
        CudaFunction function = runtime.Kernels.Get(config);
        var problem = new Problem
        {
            A = a,
            B = weights.B.Pointer,
            S = weights.Scales.Pointer,
            C = c,
            Workspace = partials.Pointer,
            Counters = counters.Pointer,
            M = rows,
            N = n,
            K = k,
        };
        unsafe
        {
            void* argument = &problem;
            function.Launch(new Dim3((uint)plan.Ctas), new Dim3((uint)config.BlockThreads), sharedBytes, stream, &argument,
                overlapPrevious: runtime.OverlapKernels);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct StreamProblem   // mirrors `struct Problem` in marlin_stream.cu
    {
        public ulong A, B, S, C, RowSquares;
        public int M, N, K;
        public float Eps;
    }

    /// <summary>
    /// The streamed kernel with a fused epilogue (see <see cref="StreamEpilogue"/>), for decoder layers at 1..16 rows.
    /// <paramref name="config"/> says the epilogue and the kernel shape (see <see cref="MarlinKernelSelector.ChooseFused"/>).
    /// <paramref name="rowSquares"/> is written ([rows][n/16]) by <see cref="StreamEpilogue.Residual"/> and read
    /// ([rows][k/16]) by the normed epilogues; <paramref name="eps"/> is the RMSNorm epsilon. For
    /// <see cref="StreamEpilogue.Residual"/>, <paramref name="c"/> holds the residual and is updated in place; for
    /// <see cref="StreamEpilogue.NormedSwiGlu"/> it is [rows][n/2].
    /// </summary>
    public static void MultiplyFused(MarlinRuntime runtime, DeviceSpan<Half> a, MarlinDeviceWeights weights, DeviceSpan<Half> c, int rows,
        CudaStream stream, MarlinStreamConfig config, DeviceSpan<float> rowSquares, float eps = 0f)
    {
        ArgumentNullException.ThrowIfNull(config);
        ValidateObjects(runtime, weights, stream);
        int k = weights.Layout.InFeatures, n = weights.Layout.OutFeatures;
        config.Validate();
        if (config.GroupSize != KernelGroupSize(weights.Layout))
            throw new ArgumentException($"Configuration {config} is for group size {config.GroupSize}; the weights use {KernelGroupSize(weights.Layout)}.", nameof(config));
        ValidateFusedOperands(a, c, rowSquares, rows, k, n, config, eps);
        LaunchStreamed(runtime, config, a.Pointer, weights, c.Pointer, rows, stream, rowSquares.Pointer, eps);
    }

    /// <summary>Null, disposed and cross-context checks shared by the entry points.</summary>
    private static void ValidateObjects(MarlinRuntime runtime, MarlinDeviceWeights weights, CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(stream);
        runtime.ThrowIfDisposed();
        ObjectDisposedException.ThrowIf(weights.IsDisposed, weights);
        ObjectDisposedException.ThrowIf(stream.IsDisposed, stream);
        if (!ReferenceEquals(weights.B.Context, runtime.Context))
            throw new ArgumentException("The weights were uploaded to a different CUDA context than the runtime's.", nameof(weights));
    }

    /// <summary>Checks of <see cref="MultiplyFused"/>'s operands that need no GPU.</summary>
    public static void ValidateFusedOperands(DeviceSpan<Half> a, DeviceSpan<Half> c, DeviceSpan<float> rowSquares, int rows, int k, int n,
        MarlinStreamConfig config, float eps)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (n % config.CtaWidth != 0)
            throw new ArgumentException($"n={n} is not a multiple of configuration {config}'s CTA width {config.CtaWidth} ({config.ChunksPerCta} chunks of 64).", nameof(config));
        if (rows < 1 || rows > config.RowsPerLaunch)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"Configuration {config} takes 1..{config.RowsPerLaunch} rows.");
        int outputColumns = config.Epilogue == StreamEpilogue.NormedSwiGlu ? n / 2 : n;
        ValidateOperands(a, c, rows, k, outputColumns);
        long needSquares = config.Epilogue switch
        {
            StreamEpilogue.Residual => (long)rows * (n / 16),
            StreamEpilogue.Normed or StreamEpilogue.NormedSwiGlu => (long)rows * (k / 16),
            _ => 0,
        };
        if (needSquares > 0)
        {
            if (rowSquares.Length < needSquares)
                throw new ArgumentException($"rowSquares holds {rowSquares.Length} floats; the {config.Epilogue} epilogue needs {needSquares} ({rows} rows × {needSquares / rows}).", nameof(rowSquares));
            if (rowSquares.Pointer % 4 != 0) throw new ArgumentException("rowSquares must be 4-byte aligned.", nameof(rowSquares));
        }
        if (config.Epilogue is StreamEpilogue.Normed or StreamEpilogue.NormedSwiGlu && !(eps >= 0f && float.IsFinite(eps)))
            throw new ArgumentOutOfRangeException(nameof(eps), eps, "The RMSNorm epsilon must be finite and not negative.");
    }

    /// <summary>
    /// What a launch of the streamed kernel in <paramref name="config"/> over <paramref name="rows"/> rows of an n × k layer
    /// holds (for diagnostics): registers per thread, shared memory per CTA, CTAs that fit on one SM, and the grid it gets.
    /// Loads (compiles) the kernel.
    /// </summary>
    public static StreamLaunchFootprint DescribeStreamed(MarlinRuntime runtime, MarlinStreamConfig config, int rows, int n, int k)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(config);
        runtime.ThrowIfDisposed();
        int shared = MarlinKernelSelector.StreamSharedBytes(config, rows, n, runtime.Device);
        CudaFunction function = runtime.Kernels.Get(config, shared);
        var plan = new StreamPlan(n, k, config.Warps, parts => runtime.Kernels.ResidentClusters(config, parts, shared),
            MaxKPartsFor(runtime.Device, config, n), config.ChunksPerCta);
        return new StreamLaunchFootprint(function.RegistersPerThread, function.StaticSharedBytes + shared,
            function.MaxActiveBlocksPerMultiprocessor(config.ThreadsPerBlock, shared), plan);
    }

    /// <summary>
    /// The largest k split (<see cref="StreamPlan"/>'s cluster size) a streamed launch over <paramref name="n"/> columns may
    /// take: none before compute capability 9.0 (no clusters); none for a fused-epilogue launch of up to 8 rows with at
    /// least one 64-column chunk per SM; otherwise <see cref="MarlinStreamConfig.MaxKParts"/>. Those fused launches are the
    /// wide layers of a decode chain (QKV and gate|up). Without a split the QKV GEMM runs 1.45 CTAs per SM instead of 2.91,
    /// which leaves room beside it for the attention blocks that follow, and it ends without a cluster reduction. H100,
    /// llama2-7b e2e (docs/NOTES.md, step 107), ms per token: batch 1 1.922 / 1.906 → 1.885 / 1.889, batch 2 1.949 /
    /// 1.933 → 1.913 / 1.917, batch 4 and 8 unchanged, although the same GEMM alone is slower unsplit (4096×12288 at m = 1
    /// 0.0119 → 0.0130 ms), so plain launches keep the split.
    /// </summary>
    internal static int MaxKPartsFor(DeviceInfo device, MarlinStreamConfig config, int n)
    {
        if (device.ComputeCapabilityMajor < 9) return 1;
        bool fusedWide = config.Epilogue != StreamEpilogue.Store && config.BatchBlocks == 1
            && n / MarlinStreamConfig.ChunkWidth >= device.MultiprocessorCount;
        return fusedWide ? 1 : MarlinStreamConfig.MaxKParts;
    }

    private static void LaunchStreamed(MarlinRuntime runtime, MarlinStreamConfig config, ulong a, MarlinDeviceWeights weights, ulong c, int rows, CudaStream stream,
        ulong rowSquares = 0, float eps = 0f)
    {
        DeviceInfo device = runtime.Device;
        int k = weights.Layout.InFeatures, n = weights.Layout.OutFeatures;
        int sharedBytes = MarlinKernelSelector.StreamSharedBytes(config, rows, n, device);
        CudaFunction function = runtime.Kernels.Get(config, sharedBytes);
        var plan = new StreamPlan(n, k, config.Warps, parts => runtime.Kernels.ResidentClusters(config, parts, sharedBytes),
            MaxKPartsFor(device, config, n), config.ChunksPerCta);
        var problem = new StreamProblem
        {
            A = a, B = weights.B.Pointer, S = weights.Scales.Pointer, C = c, RowSquares = rowSquares, M = rows, N = n, K = k, Eps = eps,
        };
        unsafe
        {
            void* argument = &problem;
            function.Launch(new Dim3((uint)plan.KParts, (uint)plan.ChunkGroups), new Dim3((uint)config.ThreadsPerBlock), sharedBytes, stream, &argument,
                overlapPrevious: runtime.OverlapKernels, clusterX: (uint)plan.KParts);
        }
    }

    /// <summary>
    /// The group size the kernel must be compiled for: a layout with a single scale row (g = -1, or g = k) stores its
    /// scales in the per-channel permutation, and the kernel then applies them once to the FP32 sums.
    /// </summary>
    public static int KernelGroupSize(Formats.MarlinLayout layout) => layout.IsPerChannel ? -1 : layout.GroupSize;

    /// <summary>Shape, length, alignment and aliasing checks shared by every entry point; no GPU needed.</summary>
    public static void ValidateOperands(DeviceSpan<Half> a, DeviceSpan<Half> c, int rows, int k, int n)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows), rows, "Expected at least one row.");
        long needA = (long)rows * k, needC = (long)rows * n;
        if (a.Length < needA) throw new ArgumentException($"Input holds {a.Length} halves; {rows} rows of {k} input features need {needA}.", nameof(a));
        if (c.Length < needC) throw new ArgumentException($"Output holds {c.Length} halves; {rows} rows of {n} output features need {needC}.", nameof(c));
        if (a.Pointer % 16 != 0) throw new ArgumentException($"Input must start on a 16-byte boundary (address 0x{a.Pointer:x}).", nameof(a));
        if (c.Pointer % 16 != 0) throw new ArgumentException($"Output must start on a 16-byte boundary (address 0x{c.Pointer:x}).", nameof(c));
        ulong aEnd = a.Pointer + (ulong)needA * 2, cEnd = c.Pointer + (ulong)needC * 2;
        if (a.Pointer < cEnd && c.Pointer < aEnd) throw new ArgumentException("Input and output overlap; the kernel reads A while other blocks write C.", nameof(c));
    }

    private static void ValidateOverride(IMarlinKernelVariant variant, int rows, int n, int k, int groupSize)
    {
        variant.Validate();
        if (variant.GroupSize != groupSize)
            throw new ArgumentException($"Configuration {variant} is for group size {variant.GroupSize}; the weights use {groupSize}.", "configOverride");
        if (variant is MarlinWideConfig wide)
        {
            if (n % MarlinWideConfig.TileN != 0) throw new ArgumentException($"n={n} is not a multiple of the wgmma kernel's tile width {MarlinWideConfig.TileN}.", "configOverride");
            if (k % wide.TileK != 0) throw new ArgumentException($"k={k} is not a multiple of the configuration's TileK={wide.TileK}.", "configOverride");
            return;
        }
        if (variant.RowsPerLaunch < Math.Min(rows, MaxRowsPerLaunch))
            throw new ArgumentException($"Configuration {variant} covers {variant.RowsPerLaunch} rows per launch; {Math.Min(rows, MaxRowsPerLaunch)} are needed.", "configOverride");
        if (variant is MarlinStreamConfig streamed)
        {
            if (n % streamed.CtaWidth != 0)
                throw new ArgumentException($"n={n} is not a multiple of configuration {streamed}'s CTA width {streamed.CtaWidth} ({streamed.ChunksPerCta} chunks of 64).", "configOverride");
            return;   // otherwise the streamed kernel takes every valid n and k
        }
        var config = (MarlinKernelConfig)variant;
        if (n % config.TileN != 0) throw new ArgumentException($"n={n} is not a multiple of the configuration's TileN={config.TileN}.", "configOverride");
        if (k % config.TileK != 0) throw new ArgumentException($"k={k} is not a multiple of the configuration's TileK={config.TileK}.", "configOverride");
    }
}

/// <summary>See <see cref="MarlinGemm.DescribeStreamed"/>.</summary>
public readonly record struct StreamLaunchFootprint(int RegistersPerThread, int SharedBytesPerCta, int CtasPerSm, StreamPlan Plan);
