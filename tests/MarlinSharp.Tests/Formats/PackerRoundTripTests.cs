using MarlinSharp.Formats;

namespace MarlinSharp.Tests.Formats;

public class PackerRoundTripTests
{
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int g in new[] { 32, 64, 128, -1 })
        {
            foreach (int k in new[] { 128, 256, 384 })
            {
                foreach (int n in new[] { 64, 192, 256 })
                {
                    data.Add(k, n, g);
                }
            }
        }

        return data;
    }

    private static int SeedFor(int k, int n, int g) => (k * 7919) ^ (n * 104729) ^ ((g + 2) * 1299709);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PackUnpackRoundTripsAndMatchesNaivePacker(int k, int n, int g)
    {
        int seed = SeedFor(k, n, g);
        var rng = new Random(seed);
        var layout = new MarlinLayout(k, n, g);
        byte[] codes = FormatTestSupport.RandomCodes(rng, k * n);
        Half[] scales = FormatTestSupport.RandomScales(rng, layout.ScaleCount);
        string ctx = $"k={k} n={n} g={g} seed={seed}";

        MarlinPackedWeights packed = MarlinPacker.Pack(codes, scales, layout);
        Assert.Equal(layout.PackedWordCount, packed.B.LongLength);
        Assert.Equal(layout.ScaleCount, packed.Scales.Length);
        FormatTestSupport.AssertSame<int>(FormatTestSupport.NaivePack(codes, k, n), packed.B, "B vs naive packer", ctx);
        FormatTestSupport.AssertSame<ushort>(
            FormatTestSupport.Bits(FormatTestSupport.NaivePackScales(scales, layout)), FormatTestSupport.Bits(packed.Scales), "scales vs naive", ctx);

        var (codesBack, scalesBack) = MarlinPacker.Unpack(packed);
        FormatTestSupport.AssertSame<byte>(codes, codesBack, "codes round trip", ctx);
        FormatTestSupport.AssertSame<ushort>(FormatTestSupport.Bits(scales), FormatTestSupport.Bits(scalesBack), "scales round trip", ctx);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FakeQuantizedWeightsPackToTheSameCodes(int k, int n, int g)
    {
        int seed = SeedFor(k, n, g) + 1;
        var rng = new Random(seed);
        var layout = new MarlinLayout(k, n, g);
        byte[] codes = FormatTestSupport.RandomCodes(rng, k * n);
        Half[] scales = FormatTestSupport.RandomScales(rng, layout.ScaleCount);
        Half[] w = MarlinReference.Dequantize(codes, scales, layout);
        MarlinPackedWeights fromWeights = MarlinPacker.PackFakeQuantized(w, scales, layout);
        MarlinPackedWeights fromCodes = MarlinPacker.Pack(codes, scales, layout);
        FormatTestSupport.AssertSame<int>(fromCodes.B, fromWeights.B, "B", $"k={k} n={n} g={g} seed={seed}");
    }

    [Theory]
    [InlineData(128, 64, 32)]
    [InlineData(256, 192, 64)]
    [InlineData(384, 256, 128)]
    [InlineData(256, 128, -1)]
    [InlineData(128, 64, 128)]
    public void ScalePermutationRoundTripsAndIsAPermutation(int k, int n, int g)
    {
        int seed = SeedFor(k, n, g) + 2;
        var layout = new MarlinLayout(k, n, g);
        // Distinct values make any lost or duplicated element visible.
        var scales = new Half[layout.ScaleCount];
        for (int i = 0; i < scales.Length; i++)
        {
            scales[i] = (Half)(i + 1);
        }

        new Random(seed).Shuffle(scales);
        Half[] packed = MarlinPacker.PackScales(scales, layout);
        Assert.Equal(scales.Order().ToArray(), packed.Order().ToArray());
        FormatTestSupport.AssertSame<ushort>(
            FormatTestSupport.Bits(scales), FormatTestSupport.Bits(MarlinPacker.UnpackScales(packed, layout)), "scales", $"seed={seed}");
    }

    [Fact]
    public void GroupEqualToKUsesPerChannelScaleLayout()
    {
        // As in the reference: one scale row means the per-channel scale permutation and kernel path.
        var a = new MarlinLayout(128, 64, 128);
        var b = new MarlinLayout(128, 64, -1);
        Assert.True(a.IsPerChannel);
        Assert.Equal(1, a.ScaleRows);
        var rng = new Random(17);
        Half[] s = FormatTestSupport.RandomScales(rng, 64);
        Assert.Equal(FormatTestSupport.Bits(MarlinPacker.PackScales(s, b)), FormatTestSupport.Bits(MarlinPacker.PackScales(s, a)));
    }

    [Fact]
    public void PermutationIsABijectionOnAChunk()
    {
        int[] perm = MarlinPacker.WeightPermutation;
        Assert.Equal(1024, perm.Length);
        Assert.Equal(Enumerable.Range(0, 1024), perm.Order());
        Assert.Equal(FormatTestSupport.NaivePermutation(), perm);
        Assert.Equal(Enumerable.Range(0, 64), MarlinPacker.GroupedScalePermutation.Order());
        Assert.Equal(Enumerable.Range(0, 32), MarlinPacker.PerChannelScalePermutation.Order());
    }

    [Theory]
    [InlineData(4096, 4096, 128, 32, 0, 2097152)]
    [InlineData(8192, 28672, -1, 1, 1, 29360128)]
    [InlineData(256, 64, 32, 8, 0, 2048)]
    public void LayoutDerivedProperties(int k, int n, int g, int scaleRows, int perChannelFlag, long words)
    {
        var layout = new MarlinLayout(k, n, g);
        Assert.Equal(k, layout.InFeatures);
        Assert.Equal(n, layout.OutFeatures);
        Assert.Equal(g, layout.GroupSize);
        Assert.Equal(scaleRows, layout.ScaleRows);
        Assert.Equal(g == -1 ? k : g, layout.EffectiveGroupSize);
        Assert.Equal(perChannelFlag == 1, layout.IsPerChannel);
        Assert.Equal(words, layout.PackedWordCount);
        Assert.Equal(g is 128 or -1, layout.HasReferenceFormat);
        Assert.Equal([-1, 32, 64, 128], MarlinLayout.SupportedGroupSizes);
        Assert.Equal(new MarlinLayout(k, n, g), layout);
    }

    [Fact]
    public void MultiplyMatchesNaiveDoubleProduct()
    {
        const int seed = 4242;
        var rng = new Random(seed);
        int m = 5, k = 130, n = 67; // deliberately not multiples of the internal blocks
        Half[] a = FormatTestSupport.RandomWeights(rng, m * k);
        Half[] w = FormatTestSupport.RandomWeights(rng, k * n);
        double[] c = MarlinReference.Multiply(a, m, w, k, n);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    sum += (double)a[(i * k) + kk] * (double)w[(kk * n) + j];
                }

                Assert.True(Math.Abs(sum - c[(i * n) + j]) <= 1e-12 * (1 + Math.Abs(sum)), $"C[{i}][{j}] = {c[(i * n) + j]}, expected {sum} (seed {seed}).");
            }
        }

        Assert.Empty(MarlinReference.Multiply([], 0, w, k, n));
    }

    [Fact]
    public void DequantizeIsQMinus8TimesScale()
    {
        const int seed = 99;
        var rng = new Random(seed);
        var layout = new MarlinLayout(256, 64, 64);
        byte[] q = FormatTestSupport.RandomCodes(rng, 256 * 64);
        Half[] s = FormatTestSupport.RandomScales(rng, layout.ScaleCount);
        Half[] w = MarlinReference.Dequantize(q, s, layout);
        for (int r = 0; r < 256; r++)
        {
            for (int c = 0; c < 64; c++)
            {
                Half expected = (Half)((q[(r * 64) + c] - 8) * (double)s[(r / 64 * 64) + c]);
                Assert.True(expected == w[(r * 64) + c], $"W[{r}][{c}] = {w[(r * 64) + c]}, expected {expected} (seed {seed}).");
            }
        }
    }
}
