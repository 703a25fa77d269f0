using MarlinSharp.Cuda;
using MarlinSharp.Kernels;

namespace MarlinSharp.Cli.Benchmarks;

/// <summary>The device-to-device copy bandwidth: the practical HBM ceiling the benchmarks compare against.</summary>
internal static class CopyBandwidth
{
    /// <summary>
    /// GB/s of a large device-to-device copy, counting bytes read plus bytes written. Copies 2 GiB each way, or less
    /// when less than 8× that is free.
    /// </summary>
    public static double MeasureGBs(MarlinRuntime runtime, CudaStream stream, DeviceRandom random, GpuTimer timer, ulong seed)
    {
        var (free, _) = runtime.Context.MemoryInfo();
        long halves = Math.Clamp(free / 16, 1L << 24, 1L << 30);
        using var source = runtime.Context.Allocate<Half>(halves);
        using var target = runtime.Context.Allocate<Half>(halves);
        random.FillUniform(source, -1, 1, seed, stream);
        double ms = timer.MedianMilliseconds(_ => target.CopyFromDevice(source, stream), 1, targetBatchMs: 50, batches: 5);
        return 2.0 * halves * 2 / (ms * 1e6);
    }

    /// <summary>Creates its own stream, generator and timer and measures (for callers without a benchmark harness).</summary>
    public static double MeasureGBs(MarlinRuntime runtime, ulong seed = 1)
    {
        using var stream = runtime.CreateStream();
        using var random = new DeviceRandom(runtime);
        using var timer = new GpuTimer(runtime.Context, stream);
        return MeasureGBs(runtime, stream, random, timer, seed);
    }
}
