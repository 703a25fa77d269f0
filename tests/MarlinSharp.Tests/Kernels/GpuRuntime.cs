using MarlinSharp.Kernels;

namespace MarlinSharp.Tests.Kernels;

/// <summary>One MarlinRuntime over the shared test context; its kernels are compiled in parallel on first use.</summary>
internal static class GpuRuntime
{
    private static readonly Lazy<MarlinRuntime> Shared = new(() =>
    {
        var runtime = MarlinRuntime.ForContext(Gpu.Context);
        runtime.WarmUpAll();
        return runtime;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Skips the test when there is no GPU; never dispose the returned runtime.</summary>
    public static MarlinRuntime Get()
    {
        Gpu.RequireDevice();
        return Shared.Value;
    }

    public static int FreshSeed() => Random.Shared.Next();
}
