using MarlinSharp.Kernels;
using MarlinSharp.Verification;

namespace MarlinSharp.Tests.Kernels;

/// <summary>
/// The wgmma kernel (<c>marlin_wgmma.cu</c>) on a GPU against float64 references: every configuration the selector can
/// choose plus the tuning variants, full, partial and single-row launches, several launches per batch, split and whole
/// columns, and bitwise reproducibility. Skipped with the reason where the GPU or NVRTC cannot run it.
/// </summary>
public class WideKernelGpuTests
{
    private static MarlinRuntime Runtime()
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        if (!runtime.CanRunWideKernel)
            Assert.Skip($"The wgmma kernel needs compute capability 9.0 and NVRTC 12+; this is {runtime.Device.Name} "
                + $"(sm_{runtime.Device.ComputeCapabilityMajor}{runtime.Device.ComputeCapabilityMinor}) with NVRTC {MarlinSharp.Cuda.Nvrtc.Version}.");
        return runtime;
    }

    public static TheoryData<int, int, int, int, int> Configurations()
    {
        var data = new TheoryData<int, int, int, int, int>();
        foreach (var c in MarlinKernelSelector.WideCandidates().Concat(TuningVariants).Distinct())
            data.Add(c.Rows, c.TileK, c.Stages, c.GroupBlocks, c.CtasPerSm);
        return data;
    }

    private static readonly MarlinWideConfig[] TuningVariants =
    [
        new(128, 64, 4, 8), new(128, 64, 3, 0), new(64, 64, 5, 2), new(32, 128, 3, 4), new(128, 128, 3, 8), new(32, 128, 4, 8, CtasPerSm: 2),
        new(64, 64, 4, 0, CtasPerSm: 2), new(16, 128, 4, 8, CtasPerSm: 2), new(16, 128, 3, 0), new(16, 128, 5, 2, CtasPerSm: 2), new(16, 128, 4, 4),
    ];

    [Theory]
    [MemberData(nameof(Configurations))]
    public void EveryConfigurationMatchesTheReference(int rows, int tileK, int stages, int groupBlocks, int ctasPerSm)
    {
        MarlinRuntime runtime = Runtime();
        var config = new MarlinWideConfig(rows, tileK, stages, groupBlocks, ctasPerSm);
        using var stream = runtime.CreateStream();
        // 1024 x 768: 3 column tiles of 8 or 16 k tiles over 132 CTAs, so every column is split and summed by the last
        // arriver; rows + 37 rows take two launches of this configuration.
        using var verifier = new GemmVerifier(runtime, 1024, 768, config.GroupSize, rows + 37, GpuRuntime.FreshSeed());
        foreach (int m in new[] { rows, rows - 5, 1, rows + 37 })
        {
            GemmCheck check = verifier.Check(m, stream, config);
            Assert.True(check.Passed, check.ToString());
        }
    }

    [Theory]
    [InlineData(4096, 4096, 128, 128)]
    [InlineData(11008, 4096, -1, 100)]
    [InlineData(4096, 22016, 64, 48)]
    [InlineData(8192, 256, 32, 200)]     // one column tile: 64 k tiles split over 64 CTAs
    public void SelectedLaunchesOnModelShapesMatchTheReference(int k, int n, int groupSize, int rows)
    {
        MarlinRuntime runtime = Runtime();
        using var stream = runtime.CreateStream();
        using var verifier = new GemmVerifier(runtime, k, n, groupSize, rows, GpuRuntime.FreshSeed());
        Assert.IsType<MarlinWideConfig>(MarlinKernelSelector.ChooseLaunch(rows, n, k, groupSize, runtime.Device, runtime.StreamSmallBatches, runtime.WideBatches));
        GemmCheck check = verifier.Check(rows, stream);
        Assert.True(check.Passed, check.ToString());
    }

    [Theory]
    [InlineData(4096, 1024, 128, 128)]
    [InlineData(2048, 768, -1, 77)]
    public void RepeatedRunsAreBitwiseIdentical(int k, int n, int groupSize, int rows)
    {
        MarlinRuntime runtime = Runtime();
        using var stream = runtime.CreateStream();
        using var verifier = new GemmVerifier(runtime, k, n, groupSize, rows, GpuRuntime.FreshSeed());
        Half[] first = verifier.Run(rows, stream);
        Assert.True(verifier.Compare(rows, first).Passed, verifier.Compare(rows, first).ToString());
        for (int run = 1; run < 10; run++)
            Assert.True(first.AsSpan().SequenceEqual(verifier.Run(rows, stream)), $"Run {run} differs from run 0 (seed {verifier.Seed}).");
    }
}
