using MarlinSharp.Formats;
using MarlinSharp.Quantization;

namespace MarlinSharp.Tests.Formats;

public class RtnQuantizerTests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 128, 64, 32 }, { 256, 192, 64 }, { 384, 256, 128 }, { 256, 128, -1 }, { 128, 64, 128 }, { 512, 64, -1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void CodesAndScalesFollowTheReferenceRule(int k, int n, int g)
    {
        int seed = (k * 31) + (n * 17) + g;
        var rng = new Random(seed);
        var layout = new MarlinLayout(k, n, g);
        Half[] w = FormatTestSupport.RandomWeights(rng, k * n, 0.05);
        QuantizedWeights qw = RtnQuantizer.Quantize(w, layout);
        Assert.Same(layout, qw.Layout);
        Assert.Equal(k * n, qw.Codes.Length);
        Assert.Equal(layout.ScaleCount, qw.Scales.Length);
        int ge = layout.EffectiveGroupSize;

        // Independent recomputation in double.
        for (int gr = 0; gr < layout.ScaleRows; gr++)
        {
            for (int col = 0; col < n; col++)
            {
                double max = 0;
                for (int r = gr * ge; r < (gr + 1) * ge; r++)
                {
                    max = Math.Max(max, Math.Abs((double)w[(r * n) + col]));
                }

                Half expected = max == 0 ? Half.One : (Half)(2 * max / 15);
                Half actual = qw.Scales[(gr * n) + col];
                Assert.True(expected == actual, $"s[{gr}][{col}] = {actual}, expected {expected} (seed {seed}).");
            }
        }

        Half[] deq = MarlinReference.Dequantize(qw.Codes, qw.Scales, layout);
        for (int r = 0; r < k; r++)
        {
            for (int col = 0; col < n; col++)
            {
                int i = (r * n) + col;
                double s = (double)qw.Scales[(r / ge * n) + col];
                byte q = qw.Codes[i];
                Assert.InRange(q, (byte)0, (byte)15);
                double quotient = (double)(Half)((double)w[i] / s);
                int expectedQ = (int)Math.Clamp(Math.Round(quotient, MidpointRounding.ToEven) + 8, 0, 15);
                Assert.True(expectedQ == q, $"q[{r}][{col}] = {q}, expected {expectedQ} (w={w[i]}, s={s}, seed {seed}).");

                // |W - dequant| <= s/2, up to the fp16 rounding of the quotient and of the dequantized value
                // (the clamped top code reaches exactly 7.5 s only when s rounded down).
                double err = Math.Abs((double)w[i] - (double)deq[i]);
                Assert.True(err <= s * (0.5 + (1.0 / 64)), $"|w - deq| = {err} > s/2 at [{r}][{col}] (w={w[i]}, q={q}, s={s}, seed {seed}).");
            }
        }
    }

    [Fact]
    public void ZeroGroupGetsScaleOneAndMiddleCode()
    {
        const int seed = 7;
        var rng = new Random(seed);
        var layout = new MarlinLayout(256, 64, 128);
        Half[] w = FormatTestSupport.RandomWeights(rng, 256 * 64);
        for (int r = 128; r < 256; r++)
        {
            w[(r * 64) + 5] = Half.Zero; // group 1, column 5 all zero
        }

        w[(130 * 64) + 5] = Half.NegativeZero;
        QuantizedWeights qw = RtnQuantizer.Quantize(w, layout);
        Assert.Equal(Half.One, qw.Scales[64 + 5]);
        for (int r = 128; r < 256; r++)
        {
            Assert.Equal(8, qw.Codes[(r * 64) + 5]);
        }

        Assert.NotEqual(Half.One, qw.Scales[5]);
    }

    [Fact]
    public void ExtremesMapToTopAndBottomCodes()
    {
        var layout = new MarlinLayout(128, 64, -1);
        var w = new Half[128 * 64];
        w[0] = (Half)1.5; // column 0: max 1.5 -> s = 0.2, 1.5/0.2 = 7.5 -> rounds to 8 -> clamped to 15
        w[64] = (Half)(-1.5); // -7.5 -> -8 -> 0
        QuantizedWeights qw = RtnQuantizer.Quantize(w, layout);
        Assert.Equal((Half)0.2, qw.Scales[0]);
        Assert.Equal(15, qw.Codes[0]);
        Assert.Equal(0, qw.Codes[64]);
        Assert.Equal(8, qw.Codes[128]);
    }

    [Fact]
    public void TinyGroupStillGetsAPositiveScale()
    {
        var layout = new MarlinLayout(128, 64, 32);
        var w = new Half[128 * 64];
        w[3] = Half.Epsilon;
        QuantizedWeights qw = RtnQuantizer.Quantize(w, layout);
        Assert.True(qw.Scales[3] > Half.Zero);
        Assert.InRange(qw.Codes[3], (byte)8, (byte)15);
    }

    [Theory]
    [InlineData(256, 128, 64)]
    [InlineData(384, 192, -1)]
    public void QuantizeLinearAgreesWithQuantizeOnTranspose(int k, int n, int g)
    {
        int seed = k + n + g;
        var rng = new Random(seed);
        var layout = new MarlinLayout(k, n, g);
        Half[] linear = FormatTestSupport.RandomWeights(rng, n * k); // [n][k]
        var wKN = new Half[k * n];
        for (int o = 0; o < n; o++)
        {
            for (int i = 0; i < k; i++)
            {
                wKN[(i * n) + o] = linear[(o * k) + i];
            }
        }

        QuantizedWeights a = RtnQuantizer.QuantizeLinear(linear, layout);
        QuantizedWeights b = RtnQuantizer.Quantize(wKN, layout);
        FormatTestSupport.AssertSame<byte>(b.Codes, a.Codes, "codes", $"seed={seed}");
        FormatTestSupport.AssertSame<ushort>(FormatTestSupport.Bits(b.Scales), FormatTestSupport.Bits(a.Scales), "scales", $"seed={seed}");
    }

    [Fact]
    public void QuantizedWeightsPackAndDequantizeConsistently()
    {
        const int seed = 2024;
        var layout = new MarlinLayout(256, 128, 128);
        QuantizedWeights qw = RtnQuantizer.Quantize(FormatTestSupport.RandomWeights(new Random(seed), 256 * 128), layout);
        MarlinPackedWeights packed = qw.Pack();
        var (codes, scales) = MarlinPacker.Unpack(packed);
        FormatTestSupport.AssertSame<byte>(qw.Codes, codes, "codes", $"seed={seed}");
        MarlinPackedWeights again = MarlinPacker.PackFakeQuantized(qw.Dequantize(), scales, layout);
        FormatTestSupport.AssertSame<int>(packed.B, again.B, "B", $"seed={seed}");
    }
}
