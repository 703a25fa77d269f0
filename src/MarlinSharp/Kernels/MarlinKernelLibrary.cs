using System.Collections.Concurrent;
using MarlinSharp.Cuda;

namespace MarlinSharp.Kernels;

/// <summary>
/// Compiled <c>marlin_gemm</c> functions of one context, one per configuration: compiled by NVRTC for the
/// device's own architecture on first use (or fetched from the disk cache), loaded once, kept for the
/// context's lifetime. <see cref="WarmUp"/> compiles many configurations in parallel.
/// </summary>
internal sealed class MarlinKernelLibrary : IDisposable
{
    private readonly CudaContext _context;
    private readonly KernelCache _cache;
    private readonly string _source = KernelSources.Get(KernelSources.DenseMarlin);
    private readonly ConcurrentDictionary<MarlinKernelConfig, Lazy<(CudaModule Module, CudaFunction Function)>> _loaded = new();
    private bool _disposed;

    public MarlinKernelLibrary(CudaContext context, KernelCache cache)
    {
        _context = context;
        _cache = cache;
    }

    public string Architecture => _context.Device.Architecture;

    public CudaFunction Get(MarlinKernelConfig config)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _loaded.GetOrAdd(config, c => new Lazy<(CudaModule, CudaFunction)>(() => Load(c))).Value.Function;
    }

    /// <summary>
    /// Extra NVRTC options for kernel development only (e.g. "-DMARLIN_DEBUG_SKIP_COMPUTE=1" to time the load side),
    /// read from MARLINSHARP_NVRTC_EXTRA; they are part of the cache key like every other option.
    /// </summary>
    private static readonly string[] DevelopmentOptions =
        (Environment.GetEnvironmentVariable("MARLINSHARP_NVRTC_EXTRA") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static IReadOnlyList<string> OptionsFor(MarlinKernelConfig config) => [.. config.CompileOptions(), .. DevelopmentOptions];

    private (CudaModule, CudaFunction) Load(MarlinKernelConfig config)
    {
        config.Validate();
        byte[] cubin = _cache.GetOrCompile(_source, KernelSources.DenseMarlin, Architecture, OptionsFor(config), out _);
        CudaModule module = _context.LoadModule(cubin);
        CudaFunction function = module.GetFunction(MarlinKernelConfig.EntryPoint);
        function.SetMaxDynamicSharedMemory(config.SharedMemoryBytes);
        return (module, function);
    }

    /// <summary>Compiles (or loads from the cache) every given configuration, in parallel.</summary>
    public void WarmUp(IEnumerable<MarlinKernelConfig> configs, IProgress<string>? progress = null)
    {
        var list = configs.Distinct().ToList();
        int done = 0;
        Parallel.ForEach(list, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, config =>
        {
            // NVRTC work is thread-safe; module loading needs the context current on this thread.
            _cache.GetOrCompile(_source, KernelSources.DenseMarlin, Architecture, OptionsFor(config), out _);
            progress?.Report($"compiled {config} ({Interlocked.Increment(ref done)}/{list.Count})");
        });
        foreach (var config in list) Get(config);
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
