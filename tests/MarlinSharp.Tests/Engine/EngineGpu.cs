using MarlinSharp.Cuda;

namespace MarlinSharp.Tests.Engine;

/// <summary>A shared runtime for engine GPU tests (skips without a GPU) and small host/device helpers.</summary>
internal static class EngineGpu
{
    private static readonly Lazy<MarlinRuntime> SharedRuntime = new(() => MarlinRuntime.ForContext(Gpu.Context), LazyThreadSafetyMode.ExecutionAndPublication);

    public static MarlinRuntime Runtime
    {
        get
        {
            Gpu.RequireDevice();
            return SharedRuntime.Value;
        }
    }

    public static Half[] RandomHalf(Random rng, long count, double scale = 1.0) =>
        Enumerable.Range(0, (int)count).Select(_ => (Half)(scale * (2 * rng.NextDouble() - 1))).ToArray();

    public static double[] ToDouble(Half[] h) => h.Select(x => (double)x).ToArray();

    public static void AssertClose(double[] expected, Half[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - (double)actual[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        Assert.True(worst <= tolerance, $"{what}: max |diff| {worst} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? (double)actual[at] : 0)}), tolerance {tolerance}");
    }
}
