using MarlinSharp.Cuda;

namespace MarlinSharp.Kernels;

/// <summary>Reproducible random fills of device buffers, generated on the GPU (<c>fill_random.cu</c>).</summary>
public sealed class DeviceRandom : IDisposable
{
    private readonly CudaModule _module;
    private readonly CudaFunction _uniformHalf;
    private readonly CudaFunction _bits;

    public DeviceRandom(MarlinRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        string source = KernelSources.Get("fill_random.cu");
        byte[] cubin = runtime.KernelCache.GetOrCompile(source, "fill_random.cu", runtime.Device.Architecture, ["-std=c++17"], out _);
        _module = runtime.Context.LoadModule(cubin);
        _uniformHalf = _module.GetFunction("fill_uniform_f16");
        _bits = _module.GetFunction("fill_bits_u32");
        Multiprocessors = runtime.Device.MultiprocessorCount;
    }

    private int Multiprocessors { get; }

    /// <summary>Fills <paramref name="target"/> with values uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public unsafe void FillUniform(DeviceSpan<Half> target, float low, float high, ulong seed, CudaStream stream)
    {
        if (!(high > low)) throw new ArgumentException($"Expected low < high, got [{low}, {high}).", nameof(high));
        if (target.IsEmpty) return;
        ulong pointer = target.Pointer, count = (ulong)target.Length;
        void** args = stackalloc void*[] { &pointer, &count, &low, &high, &seed };
        _uniformHalf.Launch(Grid(count), new Dim3(256), 0, stream, args);
    }

    /// <summary>Fills <paramref name="target"/> with uniformly random 32-bit words.</summary>
    public unsafe void FillBits(DeviceSpan<int> target, ulong seed, CudaStream stream)
    {
        if (target.IsEmpty) return;
        ulong pointer = target.Pointer, count = (ulong)target.Length;
        void** args = stackalloc void*[] { &pointer, &count, &seed };
        _bits.Launch(Grid(count), new Dim3(256), 0, stream, args);
    }

    private Dim3 Grid(ulong count) => new((uint)Math.Clamp((long)((count + 255) / 256), 1, 8L * Multiprocessors));

    public void Dispose() => _module.Dispose();
}
