using MarlinSharp.Kernels;
using MarlinSharp.Verification;

namespace MarlinSharp.Tests.Kernels;

/// <summary>
/// The streamed small-batch kernel on a real GPU against float64 references, forced for every instantiation on shapes that
/// exercise each branch of its partition: one chunk split over a full cluster, uneven block runs, a single block,
/// grouped and per-channel scales, 1..8 chunks per CTA sharing their activations; every output written (poisoned first),
/// and bitwise-identical repeats.
/// </summary>
public class StreamKernelGpuTests
{
    public static TheoryData<int, int, int, int, int, int> Cases()
    {
        var data = new TheoryData<int, int, int, int, int, int>();
        foreach (int groupSize in new[] { -1, 32, 64, 128 })
            foreach (int warps in new[] { 4, 8 })
                foreach (int ring in new[] { 2, 3 })
                    foreach (var (k, n) in new[] { (4096, 64), (1408, 192), (256, 320), (2048, 1024), (16384, 128), (1152, 512) })
                        foreach (int chunksPerCta in new[] { 1, 2, 4, 8 })
                            if (chunksPerCta <= warps && n % (64 * chunksPerCta) == 0 && (chunksPerCta == 1 || ring == 2 || k == 1152))
                                data.Add(k, n, groupSize, warps, ring, chunksPerCta);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryInstantiationMatchesTheFloat64Reference(int k, int n, int groupSize, int warps, int activationRing, int chunksPerCta)
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        using var stream = runtime.CreateStream();
        using var verifier = new GemmVerifier(runtime, k, n, groupSize, 16, GpuRuntime.FreshSeed());
        var failures = new List<GemmCheck>();
        foreach (int rows in new[] { 1, 2, 3, 7, 8, 9, 12, 15, 16 })
        {
            var config = MarlinStreamConfig.For(rows, groupSize, warps, activationRing, chunksPerCta: chunksPerCta);
            GemmCheck check = verifier.Check(rows, stream, config);
            if (!check.Passed) failures.Add(check);
        }
        Assert.True(failures.Count == 0, "Failed:\n" + string.Join("\n", failures));
    }

    [Theory]
    [InlineData(4096, 4096, 128, 1)]    // eight CTAs per chunk summed across the cluster
    [InlineData(11008, 4096, 128, 8)]
    [InlineData(4096, 192, -1, 5)]
    public void RepeatedRunsAreBitwiseIdentical(int k, int n, int groupSize, int rows)
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        Assert.True(runtime.Device.ComputeCapabilityMajor < 9 || MarlinKernelSelector.Choose(rows, n, k, groupSize, runtime.Device) is MarlinStreamConfig,
            "On Hopper the selector should stream this batch size.");
        using var stream = runtime.CreateStream();
        using var verifier = new GemmVerifier(runtime, k, n, groupSize, rows, GpuRuntime.FreshSeed());
        var config = MarlinKernelSelector.Choose(rows, n, k, groupSize, runtime.Device) as MarlinStreamConfig ?? MarlinStreamConfig.For(rows, groupSize, warps: 8);
        Half[] first = verifier.Run(rows, stream, config);
        Assert.True(verifier.Compare(rows, first, config).Passed, verifier.Compare(rows, first, config).ToString());
        for (int run = 1; run < 20; run++)
            Assert.True(first.AsSpan().SequenceEqual(verifier.Run(rows, stream, config)), $"Run {run} differs from run 0 (seed {verifier.Seed}).");
    }
}
