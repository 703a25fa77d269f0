using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

public class RopeTableTests
{
    private static double DirectInverse(LlamaConfig c, int i)
    {
        double inv = Math.Pow(c.RopeTheta, -2.0 * i / c.HeadDim);
        var s = c.RopeScaling;
        if (s is null) return inv;
        if (s.Type == "linear") return inv / s.Factor;
        double wavelength = 2 * Math.PI / inv;
        double low = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor, high = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        if (wavelength < high) return inv;
        if (wavelength > low) return inv / s.Factor;
        double smooth = (s.OriginalMaxPositionEmbeddings / wavelength - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
        return (1 - smooth) * inv / s.Factor + smooth * inv;
    }

    [Theory]
    [InlineData("llama2-7b")]
    [InlineData("llama3-8b")]
    public void TableMatchesDirectDoubleComputation(string preset)
    {
        var c = LlamaConfig.Preset(preset);
        const int positions = 2048;
        var (cos, sin) = RopeTable.Compute(c, positions);
        int half = c.HeadDim / 2;
        Assert.Equal(positions * half, cos.Length);
        double worst = 0;
        foreach (int p in new[] { 0, 1, 2, 17, 255, 1000, 2047 })
            for (int i = 0; i < half; i++)
            {
                double a = p * DirectInverse(c, i);
                worst = Math.Max(worst, Math.Abs(cos[p * half + i] - Math.Cos(a)));
                worst = Math.Max(worst, Math.Abs(sin[p * half + i] - Math.Sin(a)));
            }
        // FP32 frequencies and angles, as Hugging Face computes them: errors grow with the position.
        Assert.True(worst < 1e-3, $"max error {worst}");
    }

    [Fact]
    public void Llama3ScalingTouchesOnlyLowFrequencies()
    {
        var scaled = LlamaConfig.Preset("llama3-8b");
        var plain = scaled with { RopeScaling = null };
        float[] a = RopeTable.InverseFrequencies(scaled), b = RopeTable.InverseFrequencies(plain);
        Assert.Equal(b[0], a[0]);                                   // highest frequency unchanged
        Assert.Equal(b[^1] / 8.0, a[^1], 1e-6 * b[^1]);              // lowest frequency divided by the factor
        for (int i = 0; i < a.Length; i++)
        {
            Assert.InRange(a[i], b[i] / 8.0 * (1 - 1e-6), b[i] * (1 + 1e-6));
            Assert.Equal(DirectInverse(scaled, i), a[i], 1e-6 * a[i] + 1e-12);
        }
        Assert.Contains(a.Select((v, i) => v / b[i]), r => r > 0.2 && r < 0.9);  // the smooth band exists
    }

    [Fact]
    public void LinearScalingDividesEveryFrequency()
    {
        var c = LlamaConfig.Preset("llama2-7b") with { RopeScaling = new RopeScaling("linear", 4.0) };
        float[] a = RopeTable.InverseFrequencies(c);
        for (int i = 0; i < a.Length; i++) Assert.Equal(DirectInverse(c, i), a[i], 1e-6 * a[i]);
    }
}
