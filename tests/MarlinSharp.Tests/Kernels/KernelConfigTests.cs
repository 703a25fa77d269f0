using MarlinSharp.Cuda;
using MarlinSharp.Kernels;

namespace MarlinSharp.Tests.Kernels;

public class KernelConfigTests
{
    [Theory]
    [InlineData(0, 128, 128, 4, 8, "MBlocks")]
    [InlineData(5, 128, 128, 4, 8, "MBlocks")]
    [InlineData(1, 96, 128, 4, 8, "TileN")]
    [InlineData(1, 512, 128, 4, 8, "TileN")]
    [InlineData(1, 128, 32, 4, 8, "TileK")]
    [InlineData(1, 128, 128, 1, 8, "Stages")]
    [InlineData(1, 128, 128, 9, 8, "Stages")]
    [InlineData(1, 128, 128, 4, 1, "GroupBlocks")]
    [InlineData(1, 128, 128, 4, 16, "GroupBlocks")]
    [InlineData(1, 64, 64, 4, 8, "TileK")]   // 4 slabs over 8 k-stacked warps
    [InlineData(2, 128, 128, 4, 8, "SwapAb", 0, 1)]   // 8 swapped rows are one m-block
    [InlineData(1, 128, 128, 4, 8, "SwapAb", 0, 4)]   // 32 swapped rows are two
    [InlineData(1, 128, 128, 4, 8, "SwapAb", 0, 3)]
    [InlineData(1, 128, 128, 4, 8, "CtasPerSm", 3, 0)]
    public void InvalidConfigurationsAreRejected(int mBlocks, int tileN, int tileK, int stages, int groupBlocks, string parameter, int ctas = 1, int swap = 0)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() =>
            new MarlinKernelConfig(mBlocks, tileN, tileK, stages, groupBlocks, CtasPerSm: ctas == 0 ? 1 : ctas, SwapAb: swap).Validate());
        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void SharedMemoryMatchesTheKernelsLayout()
    {
        // 8 slabs x 64 B vectors + 16 rows x 16 A vectors + 1 scale row x 16 vectors, 4 stages; reduction 4 layers x 16 x 136 floats.
        var config = new MarlinKernelConfig(1, 128, 128, 4, 8);
        Assert.Equal(16 * (4 * (512 + 256 + 16) + 4 * 16 * 136 / 4), config.SharedMemoryBytes);
        var perChannel = new MarlinKernelConfig(4, 256, 64, 3, 0);
        Assert.Equal(16 * (3 * (4 * 128 + 64 * 8) + 2 * 16 * 264 / 4), perChannel.SharedMemoryBytes);
        // 8-row swapped launches keep an 8-row reduction tile.
        var eightRows = new MarlinKernelConfig(1, 256, 128, 4, 8, CtasPerSm: 2, SwapAb: 1);
        Assert.Equal(16 * (4 * (1024 + 256 + 32) + 2 * 8 * 264 / 4), eightRows.SharedMemoryBytes);
    }

    [Fact]
    public void CompileOptionsNameEveryMacro()
    {
        var options = new MarlinKernelConfig(3, 256, 64, 5, 2, EvictFirst: true, CtasPerSm: 2, PrefetchBytes: 256).CompileOptions();
        Assert.Contains("-DMARLIN_CTAS_PER_SM=2", options);
        Assert.Contains("-DMARLIN_B_PREFETCH=256", options);
        Assert.Contains("-DMARLIN_SWAP_AB=0", options);
        Assert.Contains("-DMARLIN_M_BLOCKS=3", options);
        Assert.Contains("-DMARLIN_TILE_N=256", options);
        Assert.Contains("-DMARLIN_TILE_K=64", options);
        Assert.Contains("-DMARLIN_STAGES=5", options);
        Assert.Contains("-DMARLIN_GROUP_BLOCKS=2", options);
        Assert.Contains("-DMARLIN_B_EVICT_FIRST=1", options);
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(32, 2)]
    [InlineData(64, 4)]
    [InlineData(128, 8)]
    public void GroupSizesMapToGroupBlocks(int groupSize, int blocks) => Assert.Equal(blocks, MarlinKernelConfig.GroupBlocksFor(groupSize));

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(256)]
    [InlineData(-2)]
    public void UnsupportedGroupSizesAreRejected(int groupSize) =>
        Assert.Equal("groupSize", Assert.Throws<ArgumentOutOfRangeException>(() => MarlinKernelConfig.GroupBlocksFor(groupSize)).ParamName);

    public static TheoryData<string> Devices() => ["H100", "A100", "Rtx4090"];

    [Theory]
    [MemberData(nameof(Devices))]
    public void SelectorCoversEveryBatchAndFitsTheDevice(string deviceName)
    {
        DeviceInfo device = deviceName switch { "H100" => TestDevices.H100, "A100" => TestDevices.A100, _ => TestDevices.Rtx4090 };
        foreach (int n in new[] { 64, 192, 320, 4096, 18432 })
            foreach (int groupSize in new[] { -1, 32, 64, 128 })
                for (int rows = 1; rows <= 64; rows++)
                {
                    MarlinKernelConfig c = MarlinKernelSelector.Select(rows, n, 73728, groupSize, device);
                    c.Validate();
                    Assert.True(c.RowsPerLaunch >= rows && c.RowsPerLaunch - rows < 16, $"{c} for {rows} rows");
                    Assert.Equal(0, n % c.TileN);
                    Assert.True(c.SharedMemoryBytes <= device.MaxSharedMemoryPerBlockOptin, $"{c} needs {c.SharedMemoryBytes} B on {device.Name}");
                    Assert.Equal(groupSize, c.GroupSize);
                    if (c.CtasPerSm == 2)
                        Assert.True(2 * (c.SharedMemoryBytes + 1024) <= device.MaxSharedMemoryPerBlockOptin + 1024, $"{c}: two CTAs do not fit on {device.Name}");
                    if (rows <= 8) Assert.Equal(1, c.SwapAb);
                    if (rows > 8 && (device.ComputeCapabilityMajor < 9 || groupSize == 32)) Assert.Equal(0, c.SwapAb);
                    if (rows > 32) Assert.Equal(0, c.SwapAb);
                    if (c.SwapAb is 2 or 4) Assert.True(c.BulkWeights, $"{c}");
                    if (c.BulkWeights) Assert.True(device.ComputeCapabilityMajor >= 9 && groupSize != 32, $"{c} on {device.Name}");
                    if (c.SwapAb == 1 && c.BulkWeights) Assert.Equal((256, 3, 2), (c.TileN, c.Stages, c.CtasPerSm));
                }
    }

    [Theory]
    [InlineData(4096, 4096, 0, 64)]        // under 8 tiles per SM even 128 wide: plain 16-row tiles, 64 wide
    [InlineData(4096, 12288, 0, 128)]      // small layer: plain 16-row tiles
    [InlineData(11008, 4096, 0, 128)]
    [InlineData(8192, 28672, 2, 256)]      // large layer: swapped operands
    [InlineData(73728, 18432, 2, 256)]
    public void SixteenRowsOnHopperUsePlainTilesOnSmallLayersOnly(int k, int n, int swap, int tileN)
    {
        MarlinKernelConfig c = MarlinKernelSelector.Select(16, n, k, 128, TestDevices.H100);
        Assert.Equal((swap, tileN), (c.SwapAb, c.TileN));
        Assert.Equal(2, c.CtasPerSm);
        Assert.Contains(c, MarlinKernelSelector.Candidates(TestDevices.H100));
    }

    [Theory]
    [InlineData(73728, 18432, 1, true)]    // large layer: TMA bulk copies, 256 wide, 3 stages
    [InlineData(8192, 28672, 8, true)]
    [InlineData(4096, 22016, 4, true)]     // 21 tiles of 256 columns per SM: still large enough
    [InlineData(11008, 4096, 1, false)]    // small layers stream with cp.async
    [InlineData(4096, 4096, 8, false)]
    public void UpToEightRowsOnHopperUseBulkCopiesOnLargeLayers(int k, int n, int rows, bool bulk)
    {
        MarlinKernelConfig c = MarlinKernelSelector.Select(rows, n, k, 128, TestDevices.H100);
        Assert.Equal(1, c.SwapAb);
        Assert.Equal(bulk, c.BulkWeights);
        Assert.Equal(bulk, MarlinKernelSelector.Select(rows, n, k, -1, TestDevices.H100).BulkWeights);
        Assert.False(MarlinKernelSelector.Select(rows, n, k, 32, TestDevices.H100).BulkWeights);
        Assert.False(MarlinKernelSelector.Select(rows, n, k, 128, TestDevices.A100).BulkWeights);
        Assert.Contains(c, MarlinKernelSelector.Candidates(TestDevices.H100));
    }

    [Theory]
    [InlineData(33)]
    [InlineData(48)]
    [InlineData(64)]
    public void LargeBatchesOnHopperUseAThreeDeepBulkRing(int rows)
    {
        MarlinKernelConfig c = MarlinKernelSelector.Select(rows, 18432, 73728, 128, TestDevices.H100);
        Assert.Equal((0, 256, 3, true), (c.SwapAb, c.TileN, c.Stages, c.BulkWeights));
        Assert.False(MarlinKernelSelector.Select(rows, 18432, 73728, 128, TestDevices.A100).BulkWeights);
        Assert.False(MarlinKernelSelector.Select(rows, 18432, 73728, 32, TestDevices.H100).BulkWeights);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void SelectorRejectsRowCountsOutsideOneLaunch(int rows) =>
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => MarlinKernelSelector.Select(rows, 256, 256, 128, TestDevices.H100)).ParamName);
}
