using MarlinSharp.Cuda;

namespace MarlinSharp.Tests;

/// <summary>Shared GPU access for tests: one lazily created context, and a skip when no usable GPU exists.</summary>
internal static class Gpu
{
    private static readonly Lazy<CudaContext> SharedContext = new(() => CudaContext.Create(0), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The shared context for device 0 (skips the test when there is no usable GPU). Never dispose it.</summary>
    public static CudaContext Context
    {
        get
        {
            RequireDevice();
            return SharedContext.Value;
        }
    }

    /// <summary>Skips the current test with "No CUDA GPU: &lt;reason&gt;" when no usable GPU is present.</summary>
    public static void RequireDevice()
    {
        if (!CudaContext.IsGpuAvailable(out string reason))
            Assert.Skip($"No CUDA GPU: {reason}");
    }
}

/// <summary>
/// Skips a test when NVRTC is missing, except on CI (env CI=true), where NVRTC is installed on purpose
/// and its absence is a failure.
/// </summary>
internal static class NvrtcRequirement
{
    public static void Require()
    {
        if (Nvrtc.IsAvailable(out string reason)) return;
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail($"NVRTC must be available on CI but is not: {reason}");
        Assert.Skip($"No NVRTC: {reason}");
    }
}
