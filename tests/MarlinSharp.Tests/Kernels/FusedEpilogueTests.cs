using MarlinSharp.Cuda;
using MarlinSharp.Formats;
using MarlinSharp.Kernels;

namespace MarlinSharp.Tests.Kernels;

/// <summary>
/// The fused decode-layer epilogues without a GPU: the weight rewrites they rely on (norm folding, gate|up interleave),
/// their configurations and selection, operand checks before any launch, and that every epilogue instantiation compiles
/// through NVRTC 11.8 without spills.
/// </summary>
public class FusedEpilogueTests
{
    private const ulong Base = 0x7000_0000_0000;

    private static DeviceSpan<T> Span<T>(ulong pointer, long length) where T : unmanaged => new(pointer, length);

    [Fact]
    public void FoldingScalesEachInputFeatureOfEveryRow()
    {
        var rng = new Random(Random.Shared.Next());
        int inFeatures = 48, outFeatures = 5;
        Half[] w = [.. Enumerable.Range(0, inFeatures * outFeatures).Select(_ => (Half)(rng.NextDouble() * 4 - 2))];
        Half[] gamma = [.. Enumerable.Range(0, inFeatures).Select(_ => (Half)(0.1 + rng.NextDouble()))];
        Half[] folded = (Half[])w.Clone();
        NormFolding.FoldIntoInputs(folded, inFeatures, gamma);
        for (int o = 0; o < outFeatures; o++)
            for (int i = 0; i < inFeatures; i++)
                Assert.Equal((Half)((float)w[o * inFeatures + i] * (float)gamma[i]), folded[o * inFeatures + i]);
    }

    [Fact]
    public void FoldedWeightsGiveTheNormedProduct()
    {
        // RMSNorm(x)·Wᵀ with weight gamma equals (x / rms(x)) · (W diag(gamma))ᵀ, up to FP16 rounding of the folded weights.
        var rng = new Random(Random.Shared.Next());
        int inFeatures = 64, outFeatures = 3;
        double[] x = [.. Enumerable.Range(0, inFeatures).Select(_ => rng.NextDouble() * 2 - 1)];
        Half[] w = [.. Enumerable.Range(0, inFeatures * outFeatures).Select(_ => (Half)(rng.NextDouble() * 2 - 1))];
        Half[] gamma = [.. Enumerable.Range(0, inFeatures).Select(_ => (Half)(0.5 + rng.NextDouble()))];
        Half[] folded = (Half[])w.Clone();
        NormFolding.FoldIntoInputs(folded, inFeatures, gamma);
        double rstd = 1 / Math.Sqrt(x.Sum(v => v * v) / inFeatures + 1e-5);
        for (int o = 0; o < outFeatures; o++)
        {
            // Each folded weight is w·gamma rounded to FP16 once: off by at most 2^-11 of itself (half an ulp), so the row may
            // differ by at most 2^-11 · rstd · Σ|x·w·gamma| (plus double-precision noise). A fixed tolerance failed on unlucky draws.
            double plain = 0, fused = 0, bound = 0;
            for (int i = 0; i < inFeatures; i++)
            {
                double term = x[i] * (double)gamma[i] * (double)w[o * inFeatures + i];
                plain += term * rstd;
                fused += x[i] * (double)folded[o * inFeatures + i];
                bound += Math.Abs(term);
            }
            bound = bound * rstd * Math.Pow(2, -11) + 1e-12;
            Assert.True(Math.Abs(plain - rstd * fused) <= bound, $"row {o}: {plain} against {rstd * fused} (bound {bound:E2})");
        }
    }

    [Fact]
    public void InterleaveAlternatesBlocksOf32GateAndUpRows()
    {
        int inFeatures = 3, inter = 96;
        // Row r holds the value r in each of its input features, so a row's origin can be read back.
        Half[] gateUp = new Half[2 * inter * inFeatures];
        for (int r = 0; r < 2 * inter; r++)
            for (int i = 0; i < inFeatures; i++) gateUp[r * inFeatures + i] = (Half)r;
        Half[] result = NormFolding.InterleaveGateUp(gateUp, inFeatures);
        var sources = Enumerable.Range(0, 2 * inter).Select(r => (int)(float)result[r * inFeatures]).ToArray();
        int[] expected = [.. Enumerable.Range(0, 32), .. Enumerable.Range(96, 32), .. Enumerable.Range(32, 32), .. Enumerable.Range(128, 32),
            .. Enumerable.Range(64, 32), .. Enumerable.Range(160, 32)];
        Assert.Equal(expected, sources);
        for (int r = 0; r < 2 * inter; r++)
        {
            Assert.Equal(expected[r], NormFolding.InterleavedSource(r, inter));
            for (int i = 1; i < inFeatures; i++) Assert.Equal(result[r * inFeatures], result[r * inFeatures + i]);
        }
    }

    [Fact]
    public void BadFoldingInputsNameTheParameter()
    {
        Half[] w = new Half[64];
        Assert.Equal("normWeight", Assert.Throws<ArgumentException>(() => NormFolding.FoldIntoInputs(w, 16, new Half[15])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => NormFolding.FoldIntoInputs(new Half[60], 16, new Half[16])).ParamName);
        Assert.Equal("inFeatures", Assert.Throws<ArgumentOutOfRangeException>(() => NormFolding.FoldIntoInputs(w, 0, new Half[16])).ParamName);
        Assert.Equal("gateUp", Assert.Throws<ArgumentException>(() => NormFolding.InterleaveGateUp(new Half[2 * 48 * 4], 4)).ParamName);   // inter 48
        Assert.Equal("gateUp", Assert.Throws<ArgumentException>(() => NormFolding.InterleaveGateUp(new Half[100], 3)).ParamName);
        Assert.Equal("gateUp", Assert.Throws<ArgumentException>(() => NormFolding.InterleaveGateUp([], 3)).ParamName);
    }

    [Theory]
    [InlineData(StreamEpilogue.Store, "stream_m8_w8_g128")]
    [InlineData(StreamEpilogue.Residual, "stream_m8_w8_g128_residual")]
    [InlineData(StreamEpilogue.Normed, "stream_m8_w8_g128_normed")]
    [InlineData(StreamEpilogue.NormedSwiGlu, "stream_m8_w8_g128_swiglu")]
    public void EpilogueIsPartOfTheConfiguration(StreamEpilogue epilogue, string name)
    {
        var config = MarlinStreamConfig.For(3, 128, warps: 8, epilogue: epilogue);
        Assert.Equal(name, config.ToString());
        Assert.Contains($"-DMARLIN_EPILOGUE={(int)epilogue}", config.CompileOptions());
        Assert.NotEqual(config, config with { Epilogue = (StreamEpilogue)(((int)epilogue + 1) % 4) });
        Assert.Equal("Epilogue", Assert.Throws<ArgumentOutOfRangeException>(() => (config with { Epilogue = (StreamEpilogue)7 }).Validate()).ParamName);
    }

    [Theory]
    [InlineData(1, 4096, 8)]     // 64 chunks: one CTA of 8 warps per SM at most
    [InlineData(8, 8192, 8)]     // 128 chunks on 132 SMs
    [InlineData(1, 12288, 4)]    // wider: 4 warps, three CTAs per SM
    [InlineData(8, 22016, 4)]    // gate|up of Llama-2-7B, which Choose leaves to the dense kernel
    [InlineData(16, 22016, 4, 4)]   // 9..16 rows on 4-warp CTAs: four chunks share each activation ring
    [InlineData(12, 12288, 4, 4)]
    [InlineData(16, 4096, 8)]       // 8-warp CTAs keep one ring per warp
    [InlineData(16, 8576, 4, 2)]    // 134 chunks: pairs
    [InlineData(16, 8512, 4, 1)]    // 133 chunks: alone
    public void FusedLaunchesAlwaysStream(int rows, int n, int warps, int chunksPerCta = 1)
    {
        var config = MarlinKernelSelector.ChooseFused(rows, n, 128, TestDevices.H100, StreamEpilogue.NormedSwiGlu);
        Assert.Equal(StreamKernelTests.ExpectedRings(MarlinStreamConfig.For(rows, 128, warps, epilogue: StreamEpilogue.NormedSwiGlu, chunksPerCta: chunksPerCta)), config);
        Assert.Equal(0, n % config.CtaWidth);
        if (rows <= MarlinKernelSelector.MaxFusedRows) Assert.Contains(config, MarlinKernelSelector.FusedCandidates(TestDevices.H100));
        Assert.Empty(MarlinKernelSelector.FusedCandidates(TestDevices.A100));
        Assert.Equal("n", Assert.Throws<ArgumentException>(() => MarlinKernelSelector.ChooseFused(rows, 100, 128, TestDevices.H100, StreamEpilogue.Residual)).ParamName);
    }

    public static TheoryData<string, StreamEpilogue, int, long, long, long, float, string> BadFusedOperands()
    {
        const int k = 256, n = 128;
        return new()
        {
            { "zero rows", StreamEpilogue.Residual, 0, k, n, n / 16, 0f, "rows" },
            { "more rows than the configuration", StreamEpilogue.Residual, 9, 9 * k, 9 * n, 9 * n / 16, 0f, "rows" },
            { "input too short", StreamEpilogue.Normed, 2, 2 * k - 1, 2 * n, 2 * k / 16, 1e-5f, "a" },
            { "output too short", StreamEpilogue.Residual, 2, 2 * k, 2 * n - 1, 2 * n / 16, 0f, "c" },
            { "swiglu output too short", StreamEpilogue.NormedSwiGlu, 2, 2 * k, n - 1, 2 * k / 16, 1e-5f, "c" },
            { "residual sums too short", StreamEpilogue.Residual, 2, 2 * k, 2 * n, 2 * n / 16 - 1, 0f, "rowSquares" },
            { "normed sums too short", StreamEpilogue.Normed, 3, 3 * k, 3 * n, 3 * k / 16 - 1, 1e-5f, "rowSquares" },
            { "swiglu sums missing", StreamEpilogue.NormedSwiGlu, 1, k, n / 2, 0, 1e-5f, "rowSquares" },
            { "negative epsilon", StreamEpilogue.Normed, 1, k, n, k / 16, -1e-5f, "eps" },
            { "NaN epsilon", StreamEpilogue.NormedSwiGlu, 1, k, n / 2, k / 16, float.NaN, "eps" },
        };
    }

    [Theory]
    [MemberData(nameof(BadFusedOperands))]
    public void BadFusedOperandsThrowNamingTheParameter(string name, StreamEpilogue epilogue, int rows, long aLength, long cLength, long sqLength,
        float eps, string parameter)
    {
        var config = MarlinStreamConfig.For(8, 128, 8, epilogue: epilogue);
        var e = Assert.ThrowsAny<ArgumentException>(() => MarlinGemm.ValidateFusedOperands(
            Span<Half>(Base, aLength), Span<Half>(Base + (1 << 20), cLength), Span<float>(Base + (2 << 20), sqLength), rows, 256, 128, config, eps));
        Assert.True(e.ParamName == parameter, $"{name}: expected parameter '{parameter}', got '{e.ParamName}' ({e.Message})");
    }

    [Fact]
    public void ChunksPerCtaThatDoNotDivideNAreRejectedNamingTheConfiguration()
    {
        // n = 128 holds two 64-column chunks: one group of 2, but not of 4.
        var config = MarlinStreamConfig.For(16, 128, 4, epilogue: StreamEpilogue.Residual, chunksPerCta: 4);
        var e = Assert.ThrowsAny<ArgumentException>(() => MarlinGemm.ValidateFusedOperands(
            Span<Half>(Base, 16 * 256), Span<Half>(Base + (1 << 20), 16 * 128), Span<float>(Base + (2 << 20), 16 * 8), 16, 256, 128, config, 0f));
        Assert.Equal("config", e.ParamName);
        Assert.Contains("256", e.Message);
        MarlinGemm.ValidateFusedOperands(Span<Half>(Base, 16 * 256), Span<Half>(Base + (1 << 20), 16 * 128), Span<float>(Base + (2 << 20), 16 * 8),
            16, 256, 128, config with { ChunksPerCta = 2 }, 0f);
    }

    [Fact]
    public void GoodFusedOperandsPass()
    {
        foreach (var epilogue in Enum.GetValues<StreamEpilogue>())
        {
            var config = MarlinStreamConfig.For(8, 128, 8, epilogue: epilogue);
            MarlinGemm.ValidateFusedOperands(Span<Half>(Base, 8 * 256), Span<Half>(Base + (1 << 20), 8 * 128), Span<float>(Base + (2 << 20), 8 * 16),
                8, 256, 128, config, 1e-6f);
        }
    }

    public static TheoryData<string, int, int, int, StreamEpilogue, int> CompileCases()
    {
        var data = new TheoryData<string, int, int, int, StreamEpilogue, int>();
        foreach (string arch in new[] { "sm_90", "sm_80" })
            foreach (int bb in new[] { 1, 2 })
                foreach (int gb in new[] { 0, 2, 8 })
                    foreach (int warps in new[] { 4, 8 })
                        foreach (var epilogue in new[] { StreamEpilogue.Residual, StreamEpilogue.Normed, StreamEpilogue.NormedSwiGlu })
                            foreach (int chunksPerCta in new[] { 1, 4 })
                                if (chunksPerCta == 1 || (warps == 4 && bb == 2))
                                    data.Add(arch, bb, gb, warps, epilogue, chunksPerCta);
        return data;
    }

    [Theory]
    [MemberData(nameof(CompileCases))]
    public void FusedEpiloguesCompileWithoutSpills(string architecture, int batchBlocks, int groupBlocks, int warps, StreamEpilogue epilogue, int chunksPerCta)
    {
        NvrtcRequirement.Require();
        var config = new MarlinStreamConfig(batchBlocks, groupBlocks, warps, Epilogue: epilogue, ChunksPerCta: chunksPerCta);
        if (architecture == "sm_90") config = StreamKernelTests.ExpectedRings(config);  // the rings an H100 launches them with
        var options = config.CompileOptions().Append("--ptxas-options=-v").ToList();
        NvrtcOutput output = Nvrtc.Compile(KernelSources.Get(KernelSources.StreamMarlin), KernelSources.StreamMarlin, architecture, options);
        CompileReport.AssertCubinWithoutSpills(output, config.ToString(), architecture);
    }
}
