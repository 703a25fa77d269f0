using System.Collections.Concurrent;
using MarlinSharp.Cuda;

namespace MarlinSharp.Kernels;

/// <summary>
/// Compiled GEMM kernels of one context, one per <see cref="IMarlinKernelVariant"/>: compiled by NVRTC for the
/// device's own architecture on first use (or fetched from the disk cache), loaded once, kept for the
/// context's lifetime. <see cref="WarmUp"/> compiles many variants in parallel.
/// </summary>
internal sealed class MarlinKernelLibrary : IDisposable
{
    private readonly CudaContext _context;
    private readonly KernelCache _cache;
    private readonly ConcurrentDictionary<string, string> _sources = new();
    private readonly ConcurrentDictionary<IMarlinKernelVariant, Lazy<LoadedKernel>> _loaded = new();
    private bool _disposed;

    private sealed record LoadedKernel(CudaModule Module, CudaFunction Function)
    {
        /// <summary>The function's maximum dynamic shared memory attribute as last set (guarded by this instance).</summary>
        public int MaxDynamicSharedBytes { get; set; }
    }

    public MarlinKernelLibrary(CudaContext context, KernelCache cache)
    {
        _context = context;
        _cache = cache;
    }

    public string Architecture => _context.Device.Architecture;

    public CudaFunction Get(IMarlinKernelVariant variant) => Loaded(variant).Function;

    /// <summary>
    /// <see cref="Get(IMarlinKernelVariant)"/>, with the function allowed at least <paramref name="dynamicSharedBytes"/> of
    /// dynamic shared memory (a launch may ask for more than the variant needs, to cap the CTAs per SM).
    /// </summary>
    public CudaFunction Get(IMarlinKernelVariant variant, int dynamicSharedBytes)
    {
        LoadedKernel kernel = Loaded(variant);
        lock (kernel)
        {
            if (dynamicSharedBytes > kernel.MaxDynamicSharedBytes)
            {
                kernel.Function.SetMaxDynamicSharedMemory(dynamicSharedBytes);
                kernel.MaxDynamicSharedBytes = dynamicSharedBytes;
            }
        }
        return kernel.Function;
    }

    private readonly ConcurrentDictionary<(MarlinStreamConfig, int, int), long> _residentClusters = new();

    /// <summary>
    /// Clusters of <paramref name="clusterSize"/> CTAs of the streamed kernel <paramref name="config"/>, launched with
    /// <paramref name="dynamicSharedBytes"/> of dynamic shared memory, that the GPU holds at once (1: resident CTAs of the
    /// whole GPU), cached.
    /// </summary>
    public long ResidentClusters(MarlinStreamConfig config, int clusterSize, int dynamicSharedBytes) =>
        _residentClusters.GetOrAdd((config, clusterSize, dynamicSharedBytes), key =>
        {
            CudaFunction function = Get(key.Item1, key.Item3);
            return key.Item2 == 1
                ? (long)function.MaxActiveBlocksPerMultiprocessor(key.Item1.ThreadsPerBlock, key.Item3) * _context.Device.MultiprocessorCount
                : function.MaxActiveClusters((uint)key.Item2, key.Item1.ThreadsPerBlock, key.Item3);
        });

    private LoadedKernel Loaded(IMarlinKernelVariant variant)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _loaded.GetOrAdd(variant, v => new Lazy<LoadedKernel>(() => Load(v))).Value;
    }

    private static IReadOnlyList<string> OptionsFor(IMarlinKernelVariant variant) => [.. variant.CompileOptions(), .. KernelCache.DevelopmentOptions];

    private string SourceOf(IMarlinKernelVariant variant) => _sources.GetOrAdd(variant.SourceName, KernelSources.Get);

    private byte[] Compile(IMarlinKernelVariant variant) =>
        _cache.GetOrCompile(SourceOf(variant), variant.SourceName, variant.ArchitectureFor(Architecture), OptionsFor(variant), out _);

    private LoadedKernel Load(IMarlinKernelVariant variant)
    {
        variant.Validate();
        CudaModule module = _context.LoadModule(Compile(variant));
        CudaFunction function = module.GetFunction(variant.EntryPoint);
        function.SetMaxDynamicSharedMemory(variant.DynamicSharedMemoryBytes);
        return new LoadedKernel(module, function) { MaxDynamicSharedBytes = variant.DynamicSharedMemoryBytes };
    }

    /// <summary>Compiles (or loads from the cache) every given variant, in parallel.</summary>
    public void WarmUp(IEnumerable<IMarlinKernelVariant> variants, IProgress<string>? progress = null)
    {
        var list = variants.Distinct().ToList();
        int done = 0;
        Parallel.ForEach(list, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, variant =>
        {
            // NVRTC work is thread-safe; module loading needs the context current on this thread.
            Compile(variant);
            progress?.Report($"compiled {variant} ({Interlocked.Increment(ref done)}/{list.Count})");
        });
        foreach (var variant in list) Get(variant);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var lazy in _loaded.Values)
            if (lazy.IsValueCreated) lazy.Value.Module.Dispose();
        _loaded.Clear();
    }
}
