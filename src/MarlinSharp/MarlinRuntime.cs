using System.Collections.Concurrent;
using MarlinSharp.Cuda;
using MarlinSharp.Kernels;

namespace MarlinSharp;

/// <summary>
/// Everything the library owns on one GPU: the CUDA context, the compiled kernels and their disk cache,
/// and per-stream scratch memory (the global-reduction workspace and a cuBLAS handle), so that several
/// streams can run MarlinSharp layers at the same time without sharing mutable state. Dispose it once the work queued
/// with it is complete (it waits for the streams that used its scratch memory, not for the whole context).
/// </summary>
public sealed class MarlinRuntime : IDisposable
{
    private readonly ConcurrentDictionary<nint, StreamResources> _perStream = new();
    private readonly bool _ownsContext;
    private bool _disposed;

    private MarlinRuntime(CudaContext context, KernelCache cache, bool ownsContext)
    {
        Context = context;
        KernelCache = cache;
        _ownsContext = ownsContext;
        Kernels = new MarlinKernelLibrary(context, cache);
        OverlapKernels = context.Device.SupportsProgrammaticDependentLaunch
            && Environment.GetEnvironmentVariable("MARLINSHARP_NO_PDL") != "1";
        WideBatches = Environment.GetEnvironmentVariable("MARLINSHARP_NO_WGMMA") != "1";
    }

    /// <summary>Opens GPU <paramref name="deviceOrdinal"/>. Throws <see cref="CudaUnavailableException"/> with the reason when there is none.</summary>
    public static MarlinRuntime Create(int deviceOrdinal = 0, string? kernelCacheDirectory = null) =>
        new(CudaContext.Create(deviceOrdinal), new KernelCache(kernelCacheDirectory), ownsContext: true);

    /// <summary>Uses an existing context (not disposed with the runtime).</summary>
    public static MarlinRuntime ForContext(CudaContext context, string? kernelCacheDirectory = null) =>
        new(context ?? throw new ArgumentNullException(nameof(context)), new KernelCache(kernelCacheDirectory), ownsContext: false);

    public CudaContext Context { get; }
    public DeviceInfo Device => Context.Device;
    public KernelCache KernelCache { get; }
    internal MarlinKernelLibrary Kernels { get; }

    /// <summary>
    /// Whether GEMMs (and the engine's kernels) are launched as programmatic dependents of the kernel before them on
    /// the stream: each may start while its predecessor finishes, fetch its weights (which no earlier kernel writes)
    /// and only then wait (<c>griddepcontrol.wait</c>) for the predecessor's results. Hides launch latency and the
    /// pipeline fill of small layers. Default: on for compute capability 9.0 and newer, off when the environment
    /// variable MARLINSHARP_NO_PDL is 1. Results are bitwise the same either way.
    /// </summary>
    public bool OverlapKernels
    {
        get => _overlapKernels;
        set => _overlapKernels = value && Device.SupportsProgrammaticDependentLaunch;
    }

    private bool _overlapKernels;

    /// <summary>
    /// Whether launches of up to 16 rows use the register-streamed kernel (<c>marlin_stream.cu</c>) on GPUs with
    /// thread-block clusters (compute capability 9.0+). Default: on, off when the environment variable
    /// MARLINSHARP_NO_STREAM is 1 (for comparisons).
    /// </summary>
    public bool StreamSmallBatches { get; set; } = Environment.GetEnvironmentVariable("MARLINSHARP_NO_STREAM") != "1";

    /// <summary>
    /// Whether wide batches use the wgmma kernel (<c>marlin_wgmma.cu</c>, see <see cref="MarlinWideConfig"/>). Only a GPU of
    /// compute capability 9.0 with NVRTC 12 or newer can have it (setting true elsewhere keeps it off). Default: on where
    /// possible, off when the environment variable MARLINSHARP_NO_WGMMA is 1 (for comparisons).
    /// </summary>
    public bool WideBatches
    {
        get => _wideBatches;
        set => _wideBatches = value && CanRunWideKernel;
    }

    private bool _wideBatches;

    /// <summary>Compute capability 9.0 (wgmma is specific to it) and an NVRTC that targets sm_90a.</summary>
    public bool CanRunWideKernel => Cuda.Nvrtc.IsAvailable(out _) && MarlinKernelSelector.SupportsWide(Device, Cuda.Nvrtc.Version);

    public CudaStream CreateStream() => Context.CreateStream();

    /// <summary>
    /// Compiles (or loads from the disk cache), in parallel, every kernel configuration that layers of
    /// <paramref name="layout"/> can use for batches of up to <paramref name="maxRows"/> rows, so that no
    /// compilation happens on the first forward pass.
    /// </summary>
    public void WarmUp(Formats.MarlinLayout layout, int maxRows = 64, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        ThrowIfDisposed();
        int groupSize = MarlinGemm.KernelGroupSize(layout);
        var configs = Enumerable.Range(1, Math.Min(MarlinWideConfig.MaxRows, maxRows))
            .Select(rows => MarlinKernelSelector.ChooseLaunch(rows, layout.OutFeatures, layout.InFeatures, groupSize, Device, StreamSmallBatches, WideBatches));
        Kernels.WarmUp(configs, progress);
    }

    /// <summary>Compiles every configuration the selectors can choose on this GPU (fused epilogues included), in parallel.</summary>
    public void WarmUpAll(IProgress<string>? progress = null)
    {
        ThrowIfDisposed();
        Kernels.WarmUp([.. MarlinKernelSelector.Candidates(Device), .. MarlinKernelSelector.StreamCandidates(Device),
            .. MarlinKernelSelector.FusedCandidates(Device), .. (WideBatches ? MarlinKernelSelector.WideCandidates() : [])], progress);
    }

    /// <summary>
    /// Changes whenever the scratch memory that layers use on <paramref name="stream"/> is (re)allocated. A CUDA graph
    /// captured from such layers bakes in the scratch addresses and must be captured again when this changes.
    /// </summary>
    public long ScratchVersion(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ResourcesFor(stream).Version;
    }

    /// <summary>
    /// The cuBLAS workspace each stream gets (what NVIDIA recommends for Hopper): ours, so that GEMMs can be graph-captured;
    /// cuBLASLt algorithms that need more are not used.
    /// </summary>
    public const long CublasWorkspaceBytes = 32L << 20;

    internal StreamResources ResourcesFor(CudaStream stream)
    {
        ThrowIfDisposed();
        _streams.TryAdd(stream.Handle, stream);
        return _perStream.GetOrAdd(stream.Handle, _ => new StreamResources(Context));
    }

    /// <summary>The streams that per-stream resources were made for, so that disposal can wait for just their work.</summary>
    private readonly ConcurrentDictionary<nint, CudaStream> _streams = new();

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Wait for the work that may still use the scratch memory freed below: the streams it was made for. Not
        // cuCtxSynchronize: the context is the device's primary one, shared with every other user in the process, and that
        // call fails (CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED), breaking their capture too, while another thread captures a
        // graph. Work on other streams must be complete before disposal (see the class summary).
        foreach (var stream in _streams.Values)
            if (!stream.IsDisposed) stream.Synchronize();
        _streams.Clear();
        foreach (var r in _perStream.Values) r.Dispose();
        _perStream.Clear();
        Kernels.Dispose();
        if (_ownsContext) Context.Dispose();
    }
}

/// <summary>Scratch memory and handles that belong to one stream.</summary>
internal sealed class StreamResources : IDisposable
{
    private readonly CudaContext _context;
    private readonly object _gate = new();
    private DeviceBuffer<float>? _partials;
    private DeviceBuffer<int>? _counters;
    private CublasHandle? _cublas;
    private DeviceBuffer<byte>? _cublasWorkspace;

    private const long CublasWorkspaceBytes = MarlinRuntime.CublasWorkspaceBytes;

    public StreamResources(CudaContext context) => _context = context;

    /// <summary>Incremented whenever the workspace or the cuBLAS handle is created or replaced.</summary>
    public long Version => Volatile.Read(ref _version);

    private long _version;

    /// <summary>
    /// The reduction workspace for a launch on <paramref name="stream"/>: FP32 partial slots and one counter per
    /// column tile. Counters are zeroed when allocated and every launch leaves them zero again.
    /// </summary>
    public (DeviceBuffer<float> Partials, DeviceBuffer<int> Counters) Workspace(long partialBytes, int counters, CudaStream stream)
    {
        lock (_gate)
        {
            long partialFloats = Math.Max(1, (partialBytes + 3) / 4);
            if (_partials is null || _partials.Length < partialFloats || _counters is null || _counters.Length < counters)
            {
                // Earlier launches on this stream may still use the old buffers.
                stream.Synchronize();
                long floats = Math.Max(partialFloats, _partials?.Length ?? 0);
                int count = Math.Max(Math.Max(counters, 1024), (int)(_counters?.Length ?? 0));
                _partials?.Dispose();
                _counters?.Dispose();
                _partials = _context.Allocate<float>(floats);
                _counters = _context.Allocate<int>(count);
                _counters.FillBytes(0, stream);
                Interlocked.Increment(ref _version);
            }
            return (_partials, _counters);
        }
    }

    public CublasHandle Cublas(CudaStream stream)
    {
        lock (_gate)
        {
            if (_cublas is null)
            {
                _cublasWorkspace = _context.Allocate<byte>(CublasWorkspaceBytes);
                _cublas = new CublasHandle(_context);
                _cublas.UseWorkspace(_cublasWorkspace);
                Interlocked.Increment(ref _version);
            }
            _cublas.SetStream(stream);
            return _cublas;
        }
    }

    public void Dispose()
    {
        _partials?.Dispose();
        _counters?.Dispose();
        _cublas?.Dispose();
        _cublasWorkspace?.Dispose();
    }
}
