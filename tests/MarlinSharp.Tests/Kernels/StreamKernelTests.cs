using MarlinSharp.Cuda;
using MarlinSharp.Kernels;

namespace MarlinSharp.Tests.Kernels;

/// <summary>
/// The streamed small-batch kernel without a GPU: its work partition (every 128-deep block streamed by exactly one warp,
/// the cluster split bounded by residency and by the work there is), its configuration, when the selector picks it, and
/// that every instantiation compiles through NVRTC 11.8 without spills.
/// </summary>
public partial class StreamKernelTests
{
    /// <summary>A GPU of <paramref name="sms"/> SMs holding <paramref name="resident"/> CTAs each, clusters packed perfectly.</summary>
    private static StreamPlan Plan(int n, int k, int warps, int sms, int resident, bool clusters, int chunksPerCta = 1) =>
        new(n, k, warps, s => (long)sms * resident / s, clusters ? MarlinStreamConfig.MaxKParts : 1, chunksPerCta);

    /// <summary>The chunks-per-CTA settings that <paramref name="n"/> and <paramref name="warps"/> allow.</summary>
    private static IEnumerable<int> ChunkSharing(int n, int warps) => new[] { 1, 2, 4, 8 }.Where(c => c <= warps && n % (64 * c) == 0);

    public static TheoryData<int, int, int, int, int> Problems() => new()
    {
        { 4096, 4096, 4, 132, 3 },     // Llama-2-7B o: 64 chunks, split 8 ways
        { 12288, 4096, 4, 132, 3 },    // qkv: 192 chunks, split 2 ways
        { 4096, 11008, 4, 132, 3 },    // down: 86 blocks, uneven runs
        { 22016, 4096, 4, 132, 3 },    // gate/up: more chunks than one split fits
        { 18432, 73728, 8, 132, 2 },   // peak shape
        { 64, 128, 4, 132, 3 },        // one chunk, one block
        { 64, 4096, 8, 132, 1 },
        { 192, 1408, 4, 7, 2 },
        { 4194240, 128, 4, 132, 3 },   // the widest n a grid holds
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public void EveryBlockIsStreamedByExactlyOneWarpInOrder(int n, int k, int warps, int sms, int resident)
    {
        foreach (int sharing in ChunkSharing(n, warps))
        {
            var plan = Plan(n, k, warps, sms, resident, clusters: true, sharing);
            Assert.Equal(n / 64, plan.Chunks);
            Assert.Equal(n / 64 / sharing, plan.ChunkGroups);
            Assert.Equal(warps / sharing, plan.WarpsPerChunk);
            Assert.Equal(k / 128, plan.Blocks);
            Assert.Equal(plan.ChunkGroups * plan.KParts, plan.Ctas);
            int next = 0, runs = plan.WarpsPerChunk;
            for (int part = 0; part < plan.KParts; part++)
                for (int run = 0; run < runs; run++)
                {
                    var (first, end) = plan.WarpBlocks(part, run);
                    Assert.Equal(next, first);
                    Assert.InRange(end - first, plan.Blocks / (plan.KParts * runs), plan.Blocks / (plan.KParts * runs) + 1);
                    next = end;
                }
            Assert.Equal(plan.Blocks, next);
        }
    }

    [Theory]
    [MemberData(nameof(Problems))]
    public void TheClusterSplitKeepsEveryCtaResidentAndEveryWarpBusy(int n, int k, int warps, int sms, int resident)
    {
        foreach (int sharing in ChunkSharing(n, warps))
        {
            var plan = Plan(n, k, warps, sms, resident, clusters: true, sharing);
            int runs = warps / sharing;
            Assert.InRange(plan.KParts, 1, MarlinStreamConfig.MaxKParts);
            if (plan.KParts > 1)
            {
                Assert.True(plan.ChunkGroups <= sms * resident / plan.KParts, $"{plan.ChunkGroups} clusters of {plan.KParts} do not fit at once on {sms} SMs x {resident}.");
                Assert.True(plan.KParts * runs <= plan.Blocks, $"{plan.KParts} parts x {runs} k runs leave warps without a block of {plan.Blocks}.");
            }
            // Maximal: one more part would break a rule (or the cluster limit).
            int more = plan.KParts + 1;
            Assert.True(more > MarlinStreamConfig.MaxKParts || plan.ChunkGroups > sms * resident / more || more * runs > plan.Blocks,
                $"KParts = {plan.KParts} but {more} would also fit ({sharing} chunks per CTA).");
            Assert.Equal(1, Plan(n, k, warps, sms, resident, clusters: false, sharing).KParts);
        }
    }

    [Fact]
    public void SharingActivationsBetweenChunksKeepsTheKSplitOfEachChunk()
    {
        // Llama-2-7B o at 8 warps, one CTA per SM: 2 parts x 8 warps, or 2 chunks per CTA over 4 parts x 4 runs: 16 warps
        // per chunk either way.
        var alone = Plan(4096, 4096, 8, 132, 1, clusters: true);
        var shared = Plan(4096, 4096, 8, 132, 1, clusters: true, chunksPerCta: 2);
        Assert.Equal((2, 8, 128), (alone.KParts, alone.WarpsPerChunk, alone.Ctas));
        Assert.Equal((4, 4, 128), (shared.KParts, shared.WarpsPerChunk, shared.Ctas));
        // qkv at 4 warps, three CTAs per SM: 2 parts x 4 warps, or 4 chunks per CTA over 8 parts x 1 run.
        var qkv = Plan(12288, 4096, 4, 132, 3, clusters: true, chunksPerCta: 4);
        Assert.Equal((48, 8, 1, 384), (qkv.ChunkGroups, qkv.KParts, qkv.WarpsPerChunk, qkv.Ctas));
    }

    [Fact]
    public void SmallDecodeLayersAreSplitAndLargeOnesAreNot()
    {
        Assert.Equal(8, Plan(4096, 4096, 4, 132, 4, clusters: true).KParts);   // 64 chunks x 8 = 512 CTAs <= 528
        Assert.Equal(4, Plan(4096, 4096, 4, 132, 2, clusters: true).KParts);   // 264 resident: 64 x 4
        Assert.Equal(2, Plan(12288, 4096, 4, 132, 3, clusters: true).KParts);
        Assert.Equal(1, Plan(18432, 73728, 4, 132, 3, clusters: true).KParts);
        Assert.Equal(1, Plan(64, 128, 4, 132, 3, clusters: true).KParts);      // one block: nothing to split
    }

    [Fact]
    public void FusedWideLaunchesOfUpToEightRowsAreNotSplit()
    {
        var h100 = TestDevices.H100;
        // A decode chain's QKV and gate|up at up to 8 rows (a fused epilogue, at least one 64-column chunk per SM): no split.
        var qkv = MarlinKernelSelector.ChooseFused(1, 12288, 128, h100, StreamEpilogue.Normed);
        var gateUp = MarlinKernelSelector.ChooseFused(8, 22016, 128, h100, StreamEpilogue.NormedSwiGlu);
        Assert.Equal(4, qkv.Warps);
        Assert.Equal(1, MarlinGemm.MaxKPartsFor(h100, qkv, 12288));
        Assert.Equal(1, MarlinGemm.MaxKPartsFor(h100, gateUp, 22016));
        // Narrow layers (fewer chunks than SMs), 16-row launches and plain GEMMs keep every split the plan allows.
        Assert.Equal(MarlinStreamConfig.MaxKParts, MarlinGemm.MaxKPartsFor(h100, MarlinStreamConfig.For(1, 128, warps: 4, epilogue: StreamEpilogue.Residual), 4096));
        Assert.Equal(MarlinStreamConfig.MaxKParts, MarlinGemm.MaxKPartsFor(h100, MarlinKernelSelector.ChooseFused(1, 4096, 128, h100, StreamEpilogue.Residual), 4096));
        Assert.Equal(MarlinStreamConfig.MaxKParts, MarlinGemm.MaxKPartsFor(h100, MarlinKernelSelector.ChooseFused(16, 12288, 128, h100, StreamEpilogue.Normed), 12288));
        Assert.Equal(MarlinStreamConfig.MaxKParts, MarlinGemm.MaxKPartsFor(h100, MarlinStreamConfig.For(1, 128, warps: 4), 12288));
        // Without clusters nothing is split.
        Assert.Equal(1, MarlinGemm.MaxKPartsFor(TestDevices.A100, MarlinStreamConfig.For(1, 128, warps: 8), 4096));
        // What the chain's QKV gets at batch 1 on an H100 (three 4-warp CTAs per SM): one CTA per chunk, 1.45 per SM.
        var plan = new StreamPlan(12288, 4096, 4, s => 396L / s, MarlinGemm.MaxKPartsFor(h100, qkv, 12288));
        Assert.Equal((1, 192), (plan.KParts, plan.Ctas));
    }

    [Fact]
    public void TheSplitFollowsHowManyClustersTheDriverSaysFitNotTheCtaCount()
    {
        // 64 chunks: clusters of 8 would need 512 CTAs, which 132 x 4 slots hold, but if GPC placement leaves room for only
        // 60 clusters of 8 and 70 of 7, the split must be 7.
        var plan = new StreamPlan(4096, 4096, 4, s => s switch { 8 => 60, 7 => 70, _ => 528 / s }, 8);
        Assert.Equal(7, plan.KParts);
        Assert.Equal(448, plan.Ctas);
    }

    [Theory]
    [InlineData(0, 128, "n")]
    [InlineData(96, 128, "n")]
    [InlineData(4194304, 128, "n")]
    [InlineData(64, 0, "k")]
    [InlineData(64, 192, "k")]
    public void BadShapesNameTheParameter(int n, int k, string parameter)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Plan(n, k, 4, 132, 2, clusters: true));
        Assert.Equal(parameter, e.ParamName);
    }

    [Theory]
    [InlineData(192, 2)]     // three chunks do not pair
    [InlineData(4160, 4)]
    [InlineData(4096 + 128, 4)]
    public void NMustHoldWholeGroupsOfSharedChunks(int n, int chunksPerCta)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Plan(n, 4096, 4, 132, 2, clusters: true, chunksPerCta));
        Assert.Equal("n", e.ParamName);
        Assert.Contains($"{64 * chunksPerCta}", e.Message);
    }

    [Fact]
    public void BadPlanSettingsAndWarpIndicesAreRejected()
    {
        Assert.Equal("warps", Assert.ThrowsAny<ArgumentException>(() => Plan(64, 128, 6, 132, 2, true)).ParamName);
        Assert.Equal("maxKParts", Assert.ThrowsAny<ArgumentException>(() => new StreamPlan(64, 128, 4, _ => 100, 0)).ParamName);
        Assert.Equal("maxKParts", Assert.ThrowsAny<ArgumentException>(() => new StreamPlan(64, 128, 4, _ => 100, 9)).ParamName);
        Assert.Equal("residentClusters", Assert.ThrowsAny<ArgumentException>(() => new StreamPlan(64, 128, 4, null!, 8)).ParamName);
        var plan = Plan(4096, 4096, 4, 132, 2, true);
        Assert.Equal("part", Assert.ThrowsAny<ArgumentException>(() => plan.WarpBlocks(plan.KParts, 0)).ParamName);
        Assert.Equal("run", Assert.ThrowsAny<ArgumentException>(() => plan.WarpBlocks(0, 4)).ParamName);
        Assert.Equal("run", Assert.ThrowsAny<ArgumentException>(() => plan.WarpBlocks(0, -1)).ParamName);
        Assert.Equal("run", Assert.ThrowsAny<ArgumentException>(() => Plan(4096, 4096, 4, 132, 2, true, chunksPerCta: 2).WarpBlocks(0, 2)).ParamName);
        Assert.Equal("chunksPerCta", Assert.ThrowsAny<ArgumentException>(() => Plan(4096, 4096, 4, 132, 2, true, chunksPerCta: 8)).ParamName);
        Assert.Equal("chunksPerCta", Assert.ThrowsAny<ArgumentException>(() => Plan(4096, 4096, 4, 132, 2, true, chunksPerCta: 3)).ParamName);
    }

    [Theory]
    [InlineData(1, -1, "stream_m8_w4_gch", 1, 0)]
    [InlineData(8, 128, "stream_m8_w4_g128", 1, 8)]
    [InlineData(9, 64, "stream_m16_w4_g64", 2, 4)]
    [InlineData(16, 32, "stream_m16_w4_g32", 2, 2)]
    public void ConfigurationFollowsRowsAndGroupSize(int rows, int groupSize, string name, int batchBlocks, int groupBlocks)
    {
        MarlinStreamConfig c = MarlinStreamConfig.For(rows, groupSize);
        Assert.Equal(name, c.ToString());
        Assert.Equal(batchBlocks, c.BatchBlocks);
        Assert.Equal(groupBlocks, c.GroupBlocks);
        Assert.Equal(groupSize, c.GroupSize);
        Assert.Equal(8 * batchBlocks, c.RowsPerLaunch);
        Assert.Contains($"-DMARLIN_BATCH_BLOCKS={batchBlocks}", c.CompileOptions());
        Assert.Contains($"-DMARLIN_GROUP_BLOCKS={groupBlocks}", c.CompileOptions());
        Assert.Equal(KernelSources.StreamMarlin, ((IMarlinKernelVariant)c).SourceName);
    }

    [Fact]
    public void InvalidConfigurationsAreRejected()
    {
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => MarlinStreamConfig.For(0, 128)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => MarlinStreamConfig.For(17, 128)).ParamName);
        Assert.Equal("groupSize", Assert.Throws<ArgumentOutOfRangeException>(() => MarlinStreamConfig.For(4, 256)).ParamName);
        Assert.Equal("BatchBlocks", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(3, 8).Validate()).ParamName);
        Assert.Equal("GroupBlocks", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(1, 16).Validate()).ParamName);
        Assert.Equal("Warps", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(1, 8, 16).Validate()).ParamName);
        Assert.Equal("ActivationRing", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(1, 8, 4, 1).Validate()).ParamName);
        Assert.Equal("ActivationRing", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(1, 8, 4, 5).Validate()).ParamName);
        Assert.Equal("Epilogue", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(1, 8, 4, 2, (StreamEpilogue)7).Validate()).ParamName);
        Assert.Equal("ChunksPerCta", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(1, 8, 4, 2, ChunksPerCta: 8).Validate()).ParamName);
        Assert.Equal("ChunksPerCta", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(1, 8, 8, 2, ChunksPerCta: 3).Validate()).ParamName);
        Assert.Equal("ChunksPerCta", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(1, 8, 8, 2, ChunksPerCta: 0).Validate()).ParamName);
        Assert.Equal("stream_m16_w8_g128_c4", new MarlinStreamConfig(2, 8, 8, ChunksPerCta: 4).ToString());
        Assert.Contains("-DMARLIN_CHUNKS_PER_CTA=4", new MarlinStreamConfig(2, 8, 8, ChunksPerCta: 4).CompileOptions());
        Assert.Equal("stream_m16_w8_g128_a3", new MarlinStreamConfig(2, 8, 8, 3).ToString());
        Assert.Equal("stream_m16_w8_g128", new MarlinStreamConfig(2, 8, 8).ToString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    public void HopperStreamsUpTo8RowsAndOlderGpusKeepTheDenseKernel(int rows)
    {
        var hopper = MarlinKernelSelector.Choose(rows, 4096, 4096, 128, TestDevices.H100);
        Assert.Equal(ExpectedRings(MarlinStreamConfig.For(rows, 128, warps: 8)), hopper);
        Assert.Contains((MarlinStreamConfig)hopper, MarlinKernelSelector.StreamCandidates(TestDevices.H100));
        Assert.IsType<MarlinKernelConfig>(MarlinKernelSelector.Choose(rows, 4096, 4096, 128, TestDevices.H100, allowStream: false));
        Assert.IsType<MarlinKernelConfig>(MarlinKernelSelector.Choose(rows, 4096, 4096, 128, TestDevices.A100));
        Assert.Equal(ExpectedRings(MarlinStreamConfig.For(16, 128, warps: 8)), MarlinKernelSelector.Choose(16, 4096, 4096, 128, TestDevices.H100));
        Assert.IsType<MarlinKernelConfig>(MarlinKernelSelector.Choose(9, 4096, 4096, 128, TestDevices.A100));
        Assert.IsType<MarlinKernelConfig>(MarlinKernelSelector.Choose(17, 4096, 4096, 128, TestDevices.H100));
        Assert.Empty(MarlinKernelSelector.StreamCandidates(TestDevices.A100));
    }

    [Theory]
    [InlineData(1, 4096, 4096, 8)]      // 64 chunks: one per SM at most
    [InlineData(8, 4096, 11008, 8)]
    [InlineData(16, 4096, 11008, 8)]    // activation rings: shared memory does not grow with k
    [InlineData(12, 4096, 4096, 8)]
    [InlineData(12, 12288, 4096, 4)]    // 9..16 rows on wide layers: three 4-warp CTAs per SM
    [InlineData(16, 22016, 4096, 4)]
    [InlineData(1, 8192, 8192, 8)]      // 128 chunks on 132 SMs
    [InlineData(1, 12288, 4096, 4)]     // 192 chunks: 4 warps, three CTAs per SM
    [InlineData(2, 12288, 4096, 4)]
    [InlineData(8, 12288, 4096, 4)]
    [InlineData(1, 22016, 4096, 4)]     // 344 chunks still fit three per SM
    [InlineData(8, 22016, 4096, 4)]
    [InlineData(1, 28672, 4096, 0)]     // 448 chunks do not: the dense kernel
    [InlineData(8, 12288, 11008, 4)]
    [InlineData(1, 8192, 28672, 0)]     // deeper than 16384: the dense kernel
    [InlineData(1, 18432, 73728, 0)]    // peak shape
    [InlineData(1, 8192, 16384, 8)]     // the deepest layer streamed
    [InlineData(16, 8192, 16384, 8)]
    [InlineData(16, 8192, 16512, 0)]    // deeper: the dense kernel
    public void HopperStreamsOnlySmallLayers(int rows, int n, int k, int warps)
    {
        IMarlinKernelVariant chosen = MarlinKernelSelector.Choose(rows, n, k, 128, TestDevices.H100);
        if (warps == 0)
        {
            Assert.IsType<MarlinKernelConfig>(chosen);
            Assert.Equal(MarlinKernelSelector.Select(rows, n, k, 128, TestDevices.H100), chosen);
        }
        else
        {
            // 4-warp CTAs at 9..16 rows cover four chunks that share their activations (every n here allows it).
            int chunksPerCta = warps == 4 && rows > 8 ? 4 : 1;
            Assert.Equal(ExpectedRings(MarlinStreamConfig.For(rows, 128, warps, chunksPerCta: chunksPerCta)), chosen);
            Assert.Contains((MarlinStreamConfig)chosen, MarlinKernelSelector.StreamCandidates(TestDevices.H100));
        }
    }

    [Theory]
    [InlineData(1, 4096, 4, 1)]       // up to 8 rows every warp has its own ring
    [InlineData(8, 22016, 4, 1)]
    [InlineData(9, 22016, 4, 4)]
    [InlineData(16, 11008, 4, 4)]     // 172 chunks
    [InlineData(16, 4224, 4, 2)]      // 66 chunks
    [InlineData(16, 4160, 4, 1)]      // 65 chunks
    [InlineData(16, 4096, 8, 1)]      // 8-warp CTAs keep one ring per warp
    public void ChunksShareActivationsOnlyOnFourWarpCtasAbove8Rows(int rows, int n, int warps, int expected)
    {
        Assert.Equal(expected, MarlinKernelSelector.ChunksPerCta(rows, n, warps));
        var config = ExpectedRings(MarlinStreamConfig.For(rows, 128, warps, chunksPerCta: expected));
        Assert.Contains(config, MarlinKernelSelector.StreamCandidates(TestDevices.H100));
        Assert.Contains(config with { Epilogue = StreamEpilogue.Residual }, MarlinKernelSelector.FusedCandidates(TestDevices.H100));
    }

    [Theory]
    [InlineData(1, 1, 8, 2, 8 * 2 * 1 * 272)]
    [InlineData(8, 1, 4, 2, 4 * 2 * 8 * 272)]
    [InlineData(12, 1, 8, 3, 8 * 3 * 8 * 272)]      // rows capped at the 8 a launch of one batch block covers
    [InlineData(12, 2, 8, 3, 8 * 3 * 12 * 272)]
    [InlineData(16, 2, 8, 4, 8 * 4 * 16 * 272)]
    [InlineData(16, 2, 8, 2, 4 * 2 * 16 * 272, 2)]  // two chunks per CTA: one ring per pair of warps
    [InlineData(5, 1, 4, 3, 1 * 3 * 5 * 272, 4)]
    public void ActivationRingsTakeKRunsTimesDepthTimesRowsOfPaddedBlocks(int rows, int batchBlocks, int warps, int ring, int expected, int chunksPerCta = 1)
    {
        var config = new MarlinStreamConfig(batchBlocks, 8, warps, ring, ChunksPerCta: chunksPerCta);
        Assert.Equal(expected, config.ActivationRingBytes(rows));
        // The register ring: with several k runs per chunk, each warp's partials follow the rings.
        Assert.Equal(config.ActivationRingBytes(config.RowsPerLaunch) + config.PartialBytes, config.DynamicSharedMemoryBytes);
        Assert.Equal(config.WarpsPerChunk > 1 ? warps * batchBlocks * 2048 : 0, config.PartialBytes);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => config.ActivationRingBytes(0)).ParamName);
    }

    /// <summary>
    /// The rings the selector gives a configuration on an H100 (docs/NOTES.md, steps 129-132): 8-warp CTAs a shared weight
    /// ring of 4 stages up to 8 rows and 3 at 9..16, activations two blocks ahead; 4-warp CTAs of up to 8 rows a 3-stage one
    /// with activations one block ahead; 4-warp CTAs of 9..16 rows the register ring.
    /// </summary>
    internal static MarlinStreamConfig ExpectedRings(MarlinStreamConfig config) => config.Warps == 8
        ? config with { WeightStages = config.BatchBlocks == 1 ? 4 : 3, ActivationRing = 3 }
        : config.BatchBlocks == 1 ? config with { WeightStages = 3, ActivationRing = 2 } : config;

    [Theory]
    [InlineData(8, 8, 3, 8 * 3 * (4096 + 128))]   // 128-wide groups: one scale row per block
    [InlineData(2, 4, 3, 4 * 3 * (4096 + 512))]   // 32-wide groups: four
    [InlineData(0, 8, 2, 8 * 2 * 4096)]           // per-channel scales stay out of the ring
    [InlineData(8, 4, 0, 0)]                      // the register ring
    public void WeightRingsTakeWarpsTimesStagesOfABlockAndItsScales(int groupBlocks, int warps, int stages, int expected)
    {
        var config = new MarlinStreamConfig(1, groupBlocks, warps, 2, WeightStages: stages);
        config.Validate();
        Assert.Equal(expected, config.WeightRingBytes);
        // The register ring with several k runs per chunk (one chunk here) keeps each warp's partials after the rings instead.
        Assert.Equal(stages == 0 ? warps * 2048 : 0, config.PartialBytes);
        Assert.Equal(config.ActivationRingBytes(5) + expected + config.PartialBytes, config.SharedBytes(5));
        Assert.Equal(config.SharedBytes(8), config.DynamicSharedMemoryBytes);
        Assert.Contains($"-DMARLIN_W_STAGES={stages}", config.CompileOptions());
        // Static: the receive buffer of 4 keys, padded for 8 parts (8 keys of 32 Float4s), and the row norms.
        Assert.Equal(4096, config.ReduceReceiveBytes);
        Assert.Equal(4096 + 32, MarlinKernelSelector.StreamStaticSharedBytes(config));
    }

    [Theory]
    // 16 rows, four chunks: 32 keys, 6 parts round them up to 36 (the most of 1..8 parts).
    [InlineData(2, 4, 4, StreamEpilogue.Normed, 36 * 512)]
    // SwiGLU pairs gate and up keys: 16 pairs, 7 parts round them up to 21, two halves each.
    [InlineData(2, 4, 4, StreamEpilogue.NormedSwiGlu, 21 * 2 * 512)]
    // 8-warp, one chunk, 16 rows: 8 keys, 7 parts round them up to 14.
    [InlineData(2, 8, 1, StreamEpilogue.Residual, 14 * 512)]
    // 8 rows, one chunk: 4 keys, 8 parts take one each.
    [InlineData(1, 8, 1, StreamEpilogue.Store, 8 * 512)]
    public void ReduceReceiveBufferHoldsThePaddedKeysOfTheWorstSplit(int batchBlocks, int warps, int chunksPerCta, StreamEpilogue epilogue, int expected)
    {
        var config = new MarlinStreamConfig(batchBlocks, 8, warps, 2, epilogue, chunksPerCta);
        config.Validate();
        Assert.Equal(expected, config.ReduceReceiveBytes);
        // Every split of up to 8 parts fits: each part reduces ceil(keys / parts) keys with one partial per part and half.
        int halves = epilogue == StreamEpilogue.NormedSwiGlu ? 2 : 1, keys = chunksPerCta * batchBlocks * 4 / halves;
        for (int parts = 1; parts <= MarlinStreamConfig.MaxKParts; parts++)
            Assert.True((keys + parts - 1) / parts * parts * halves * 32 * 16 <= config.ReduceReceiveBytes, $"{parts} parts");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(-1)]
    public void WeightStagesOutsideTwoToFourAreRefused(int stages) =>
        Assert.Equal("WeightStages", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(1, 8, 4, 2, WeightStages: stages).Validate()).ParamName);

    [Fact]
    public void ActivationsMayNotRunFurtherAheadThanTheWeights()
    {
        Assert.Equal("WeightStages", Assert.Throws<ArgumentOutOfRangeException>(() => new MarlinStreamConfig(1, 8, 4, 3, WeightStages: 2).Validate()).ParamName);
        new MarlinStreamConfig(1, 8, 4, 3, WeightStages: 3).Validate();
        Assert.Equal("stream_m8_w4_g128_a3_s3", new MarlinStreamConfig(1, 8, 4, 3, WeightStages: 3).ToString());
    }

    [Theory]
    [InlineData(1, 12288, 2)]    // 192 chunks on 132 SMs: two per SM hold the grid
    [InlineData(8, 22016, 3)]    // 344 chunks: three
    [InlineData(1, 4096, 2)]     // 64 chunks: still two, never one
    public void FourWarpSharedRingLaunchesAskForSharedMemoryThatCapsTheirCtasPerSm(int rows, int n, int ctasPerSm)
    {
        var config = ExpectedRings(MarlinStreamConfig.For(rows, 128, 4, epilogue: StreamEpilogue.Normed));
        if (n / MarlinStreamConfig.ChunkWidth > TestDevices.H100.MultiprocessorCount)
            Assert.Equal(config, MarlinKernelSelector.ChooseFused(rows, n, 128, TestDevices.H100, StreamEpilogue.Normed));
        int shared = MarlinKernelSelector.StreamSharedBytes(config, rows, n, TestDevices.H100);
        int perCta = shared + MarlinKernelSelector.StreamStaticSharedBytes(config) + 1024, perSm = TestDevices.H100.MaxSharedMemoryPerBlockOptin + 1024;
        Assert.True(shared >= config.SharedBytes(rows));
        Assert.True(ctasPerSm * perCta <= perSm, $"{ctasPerSm} CTAs of {perCta} bytes must fit {perSm}");
        Assert.True((ctasPerSm + 1) * perCta > perSm, $"{ctasPerSm + 1} CTAs of {perCta} bytes must not fit {perSm}");
    }

    [Fact]
    public void OtherLaunchesAskForWhatTheirRingsNeed()
    {
        var eight = ExpectedRings(MarlinStreamConfig.For(1, 128, 8));
        Assert.Equal(eight.SharedBytes(1), MarlinKernelSelector.StreamSharedBytes(eight, 1, 4096, TestDevices.H100));
        var sixteen = MarlinStreamConfig.For(16, 128, 4, chunksPerCta: 4);
        Assert.Equal(sixteen.SharedBytes(16), MarlinKernelSelector.StreamSharedBytes(sixteen, 16, 12288, TestDevices.H100));
    }

    [Fact]
    public void SharedWeightRingsThatDoNotFitTheDeviceFallBackToRegisters()
    {
        // A part with 99 KB of shared memory per block: the 16-row 8-warp rings (~205 KB) do not fit.
        var small = TestDevices.H100 with { Name = "small", MaxSharedMemoryPerBlockOptin = 99 * 1024 };
        var config = MarlinKernelSelector.ChooseFused(16, 4096, 128, small, StreamEpilogue.Residual);
        Assert.Equal(0, config.WeightStages);
        Assert.Equal(2, config.ActivationRing);
        // Up to 8 rows, 4 stages (~187 KB) and 3 (~153 KB) do not fit either, 2 stages with activations one block ahead
        // (~102 KB) neither; 4-warp CTAs' 3 stages (~53 KB) do.
        Assert.Equal(0, MarlinKernelSelector.ChooseFused(8, 4096, 128, small, StreamEpilogue.Residual).WeightStages);
        Assert.Equal(3, MarlinKernelSelector.ChooseFused(8, 12288, 128, small, StreamEpilogue.Residual).WeightStages);
        var medium = small with { MaxSharedMemoryPerBlockOptin = 160 * 1024 };
        Assert.Equal(3, MarlinKernelSelector.ChooseFused(8, 4096, 128, medium, StreamEpilogue.Residual).WeightStages);
        Assert.Equal(3, MarlinKernelSelector.ChooseFused(16, 4096, 128, TestDevices.H100, StreamEpilogue.Residual).WeightStages);
    }

    public static TheoryData<string, int, int, int, int, int, int> CompileCases()
    {
        var data = new TheoryData<string, int, int, int, int, int, int>();
        foreach (string arch in new[] { "sm_90", "sm_80" })
            foreach (int bb in new[] { 1, 2 })
                foreach (int gb in new[] { 0, 2, 4, 8 })
                    foreach (int warps in new[] { 4, 8 })
                        foreach (int ring in new[] { 2, 3 })
                            foreach (int chunksPerCta in new[] { 1, 2, 4, 8 })
                                if (chunksPerCta <= warps && (chunksPerCta == 1 || (ring == 2 && gb is 0 or 8)))
                                    foreach (int stages in arch == "sm_90" ? new[] { 0, 3 } : [0])  // shared weight rings: Hopper only
                                        data.Add(arch, bb, gb, warps, ring, chunksPerCta, stages);
        return data;
    }

    [Theory]
    [MemberData(nameof(CompileCases))]
    public void StreamKernelCompilesWithoutSpills(string architecture, int batchBlocks, int groupBlocks, int warps, int activationRing, int chunksPerCta,
        int weightStages)
    {
        NvrtcRequirement.Require();
        var config = new MarlinStreamConfig(batchBlocks, groupBlocks, warps, activationRing, ChunksPerCta: chunksPerCta, WeightStages: weightStages);
        var options = config.CompileOptions().Append("--ptxas-options=-v").ToList();
        NvrtcOutput output = Nvrtc.Compile(KernelSources.Get(KernelSources.StreamMarlin), KernelSources.StreamMarlin, architecture, options);
        CompileReport.AssertCubinWithoutSpills(output, config.ToString(), architecture);
        // The selector sizes the staged activations against this bound (a 16-row, 8-warp CTA of k = 6656 once passed the
        // selector's check with half the real static size and was refused at launch).
        int reported = CompileReport.StaticSharedBytes(output), bound = MarlinKernelSelector.StreamStaticSharedBytes(config);
        Assert.True(reported <= bound && bound - reported <= 256, $"{config}: ptxas reports {reported} bytes of static shared memory; the selector assumes {bound}.");
    }

    [Theory]
    [InlineData(16, 6656, 6656)]        // once refused at launch when the staged activations grew with k
    [InlineData(12, 8192, 8192)]
    [InlineData(16, 4096, 11008)]
    [InlineData(16, 22016, 4096)]
    [InlineData(16, 4096, 16384)]
    [InlineData(9, 12288, 4096)]
    public void SixteenRowsStreamAtEveryDepthUpToTheLimitWithRingsThatFit(int rows, int n, int k)
    {
        var streamed = Assert.IsType<MarlinStreamConfig>(MarlinKernelSelector.Choose(rows, n, k, 128, TestDevices.H100));
        int perSm = streamed.Warps == 4 ? 3 : 1;
        int need = perSm * (MarlinKernelSelector.StreamSharedBytes(streamed, rows, n, TestDevices.H100) + MarlinKernelSelector.StreamStaticSharedBytes(streamed) + 1024);
        Assert.True(need <= TestDevices.H100.MaxSharedMemoryPerBlockOptin + 1024, $"{streamed} at {rows} x k={k}: {perSm} CTAs need {need} bytes of shared memory.");
        Assert.Contains(streamed, MarlinKernelSelector.StreamCandidates(TestDevices.H100));
    }
}
