using System.Text.RegularExpressions;
using MarlinSharp.Cuda;
using MarlinSharp.Kernels;

namespace MarlinSharp.Tests.Kernels;

/// <summary>The wgmma kernel's host side without a GPU: configuration checks, its shared-memory arithmetic, when the selector
/// takes it, and (where NVRTC 12+ is installed) that every selectable instantiation compiles without serialised wgmmas.
/// Not run in parallel with other tests: on the GPU machine (NVRTC 13) the assembler's -v report went missing from the
/// logs of compilations made while the GPU tests compiled kernels on other threads.</summary>
[Collection(nameof(CompileLogCollection))]
public partial class WideKernelConfigTests
{
    private static readonly DeviceInfo B200 = new(0, "NVIDIA B200", 10, 0, 148, 126L << 20, 180L << 30, 227 * 1024, 13000, 3_996_000, 8192);

    [Theory]
    [InlineData(48, 128, 4, 8, 1, "Rows")]
    [InlineData(256, 128, 4, 8, 1, "Rows")]
    [InlineData(128, 32, 4, 8, 1, "TileK")]
    [InlineData(128, 128, 2, 8, 1, "Stages")]
    [InlineData(128, 128, 7, 8, 1, "Stages")]
    [InlineData(128, 128, 4, 3, 1, "GroupBlocks")]
    [InlineData(128, 128, 4, 8, 3, "CtasPerSm")]
    public void InvalidConfigurationsAreRejectedNamingTheField(int rows, int tileK, int stages, int groupBlocks, int ctas, string field)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new MarlinWideConfig(rows, tileK, stages, groupBlocks, ctas).Validate());
        Assert.Equal(field, e.ParamName);
    }

    [Fact]
    public void SharedMemoryMirrorsTheKernelsStageLayout()
    {
        // 128 rows, k 128: two 16 KB swizzle atoms + 8 slabs x 2 KB of weights + one 512-byte scale row -> 49 KB per stage.
        Assert.Equal(4 * 50176 + 1024, new MarlinWideConfig(128, 128, 4, 8).DynamicSharedMemoryBytes);
        // 32 rows, k 128, group 32: 8 KB + 16 KB + 4 scale rows (2 KB) = 26 KB, already a multiple of 1024.
        Assert.Equal(3 * 26624 + 1024, new MarlinWideConfig(32, 128, 3, 2).DynamicSharedMemoryBytes);
        // 64 rows, k 64, per-channel: 8 KB + 8 KB, no scale rows.
        Assert.Equal(5 * 16384 + 1024, new MarlinWideConfig(64, 64, 5, 0).DynamicSharedMemoryBytes);
        Assert.Equal(128 * 256, new MarlinWideConfig(128, 128, 4, 8).PartialFloats);
    }

    [Fact]
    public void CompileOptionsAndNameCarryEveryField()
    {
        var config = new MarlinWideConfig(32, 64, 5, 4, CtasPerSm: 2);
        Assert.Equal(["-std=c++17", "-DMARLIN_ROWS=32", "-DMARLIN_TILE_K=64", "-DMARLIN_STAGES=5", "-DMARLIN_GROUP_BLOCKS=4", "-DMARLIN_CTAS_PER_SM=2"],
            config.CompileOptions());
        Assert.Equal("wgmma_m32_k64_s5_g64_x2", config.ToString());
        Assert.Equal("sm_90a", ((IMarlinKernelVariant)config).ArchitectureFor("sm_90"));
        Assert.Equal("sm_80", ((IMarlinKernelVariant)new MarlinKernelConfig(1, 128, 128, 4, 8)).ArchitectureFor("sm_80"));
    }

    [Theory]
    [InlineData(9, 0, "12.0", true)]
    [InlineData(9, 0, "13.0", true)]
    [InlineData(9, 0, "11.8", false)]
    [InlineData(8, 0, "13.0", false)]
    [InlineData(10, 0, "13.0", false)]   // wgmma is specific to sm_90a
    public void OnlyComputeCapability90WithNvrtc12CanRunIt(int major, int minor, string nvrtc, bool expected)
    {
        var device = TestDevices.H100 with { ComputeCapabilityMajor = major, ComputeCapabilityMinor = minor };
        Assert.Equal(expected, MarlinKernelSelector.SupportsWide(device, Version.Parse(nvrtc)));
    }

    [Theory]
    [InlineData(17, 32, 2)]
    [InlineData(32, 32, 2)]
    [InlineData(33, 64, 1)]
    [InlineData(64, 64, 1)]
    [InlineData(65, 128, 1)]
    [InlineData(4096, 128, 1)]
    public void WideBatchesOnHopperTakeTheWgmmaKernel(int rows, int launchRows, int ctas)
    {
        var chosen = Assert.IsType<MarlinWideConfig>(MarlinKernelSelector.ChooseLaunch(rows, 4096, 11008 - 11008 % 128, 128, TestDevices.H100, allowWide: true));
        Assert.Equal(launchRows, chosen.Rows);
        Assert.Equal(ctas, chosen.CtasPerSm);
        int perSm = chosen.CtasPerSm * (chosen.DynamicSharedMemoryBytes + 1024);
        Assert.True(perSm <= TestDevices.H100.MaxSharedMemoryPerBlockOptin + 1024, $"{chosen} does not fit {chosen.CtasPerSm} per SM.");
    }

    [Theory]
    [InlineData(16, 4096, 4096, true)]     // 9..16 rows where 8 streamed warps cover every chunk
    [InlineData(12, 8192, 8192, true)]
    [InlineData(16, 4096, 11008, true)]
    [InlineData(8, 22016, 4096, true)]     // up to 8 rows: the streamed / swapped kernels
    [InlineData(1, 18432, 73728, true)]
    [InlineData(64, 320, 4096, true)]      // n not a multiple of 256
    [InlineData(64, 4096, 4160, true)]     // k not a multiple of 128
    [InlineData(64, 4096, 4096, false)]    // switched off
    public void OtherLaunchesKeepTheMmaSyncKernels(int rows, int n, int k, bool allowWide)
    {
        IMarlinKernelVariant chosen = MarlinKernelSelector.ChooseLaunch(rows, n, k, 128, TestDevices.H100, allowWide: allowWide);
        Assert.IsNotType<MarlinWideConfig>(chosen);
        Assert.Equal(MarlinKernelSelector.Choose(Math.Min(rows, 64), n, k, 128, TestDevices.H100), chosen);
    }

    [Theory]
    [InlineData(16, 12288, 4096)]          // 4-warp streamed otherwise
    [InlineData(9, 22016, 4096)]
    [InlineData(16, 57344, 8192)]          // dense otherwise (too many chunks)
    [InlineData(12, 8192, 28672)]          // dense otherwise (too deep)
    [InlineData(16, 18432, 73728)]         // peak shape
    public void NineToSixteenRowsTakeTheSixteenRowWgmmaKernelWhereEightStreamedWarpsDoNot(int rows, int n, int k)
    {
        var chosen = Assert.IsType<MarlinWideConfig>(MarlinKernelSelector.ChooseLaunch(rows, n, k, 128, TestDevices.H100, allowWide: true));
        Assert.Equal(MarlinKernelSelector.Wide(rows, 128), chosen);
        Assert.Equal(16, chosen.Rows);
        Assert.Contains(chosen, MarlinKernelSelector.WideCandidates());
        Assert.IsNotType<MarlinWideConfig>(MarlinKernelSelector.ChooseLaunch(rows, n, k, 128, TestDevices.H100, allowWide: false));
        int perSm = chosen.CtasPerSm * (chosen.DynamicSharedMemoryBytes + 1024);
        Assert.True(perSm <= TestDevices.H100.MaxSharedMemoryPerBlockOptin + 1024, $"{chosen} does not fit {chosen.CtasPerSm} per SM.");
    }

    [Fact]
    public void OtherArchitecturesNeverTakeIt()
    {
        foreach (var device in new[] { TestDevices.A100, TestDevices.Rtx4090, B200 })
            Assert.IsNotType<MarlinWideConfig>(MarlinKernelSelector.ChooseLaunch(128, 4096, 4096, 128, device, allowWide: true));
    }

    [Fact]
    public void ChooseLaunchRejectsEmptyBatches() =>
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => MarlinKernelSelector.ChooseLaunch(0, 4096, 4096, 128, TestDevices.H100)).ParamName);

    public static TheoryData<int, int, int, int, int> Candidates()
    {
        var data = new TheoryData<int, int, int, int, int>();
        foreach (var c in MarlinKernelSelector.WideCandidates()) data.Add(c.Rows, c.TileK, c.Stages, c.GroupBlocks, c.CtasPerSm);
        return data;
    }

    /// <summary>
    /// Needs NVRTC 12+ (sm_90a); CI installs 11.8, where it is skipped with that reason, and it runs on the GPU machine.
    /// Asserts that ptxas kept the wgmma pipeline (no "serialized" warning: an accumulator touched while a wgmma is in flight
    /// costs the whole kernel its overlap) and that the 16- and 32-row variants (two CTAs per SM, 128 registers) do not spill.
    /// </summary>
    [Theory]
    [MemberData(nameof(Candidates))]
    public void SelectableVariantsCompileWithAnUnbrokenWgmmaPipeline(int rows, int tileK, int stages, int groupBlocks, int ctas)
    {
        NvrtcRequirement.Require();
        if (Nvrtc.Version.Major < 12) Assert.Skip($"NVRTC {Nvrtc.Version} cannot target sm_90a; the wgmma kernel needs NVRTC 12 or newer.");
        var config = new MarlinWideConfig(rows, tileK, stages, groupBlocks, ctas);
        NvrtcOutput output = Nvrtc.Compile(KernelSources.Get(KernelSources.WideMarlin), KernelSources.WideMarlin, "sm_90a",
            [.. config.CompileOptions(), "--ptxas-options=-v"]);
        Assert.DoesNotMatch(Serialized(), output.Log);
        if (rows <= 32) CompileReport.AssertCubinWithoutSpills(output, config.ToString(), "sm_90a");
    }

    [GeneratedRegex("serialized", RegexOptions.IgnoreCase)]
    private static partial Regex Serialized();
}

[CollectionDefinition(nameof(CompileLogCollection), DisableParallelization = true)]
public class CompileLogCollection;
