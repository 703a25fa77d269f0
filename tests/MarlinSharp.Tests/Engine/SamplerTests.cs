using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

public class SamplerTests
{
    private static readonly float[] Logits = [1.0f, 3.0f, 2.0f, 3.0f, -1.0f, float.NegativeInfinity];

    private static int[] Histogram(SamplingOptions options, float[] logits, int draws)
    {
        var s = new Sampler(options);
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++) counts[s.Sample(logits)]++;
        return counts;
    }

    [Fact]
    public void GreedyPicksTheFirstLargest()
    {
        Assert.Equal(1, new Sampler(SamplingOptions.Greedy).Sample(Logits));
        Assert.Equal(1, new Sampler(new SamplingOptions(Temperature: 0.7, TopK: 1, Seed: 5)).Sample(Logits));
        Assert.Equal(1, Sampler.Argmax(Logits));
        Assert.Equal(0, Sampler.Argmax([float.NaN, float.NaN]));
    }

    [Fact]
    public void TopKOnlyDrawsFromTheKLargest()
    {
        var counts = Histogram(new SamplingOptions(Temperature: 1, TopK: 2, Seed: 1), Logits, 4000);
        Assert.Equal(0, counts[0] + counts[2] + counts[4] + counts[5]);
        Assert.InRange(counts[1], 1700, 2300);  // the two tied at 3.0 share evenly
    }

    [Fact]
    public void TopPKeepsTheSmallestSetReachingP()
    {
        // softmax([1,3,2,3,-1]) ≈ [.054,.397,.146,.397,.007]: the two 3.0 tokens hold 0.793 < 0.85, adding 2.0 reaches 0.939.
        var counts = Histogram(new SamplingOptions(Temperature: 1, TopP: 0.85, Seed: 2), Logits, 6000);
        Assert.Equal(0, counts[0] + counts[4] + counts[5]);
        Assert.True(counts[2] > 0);
        double expected = 0.1459 / 0.9391;
        Assert.InRange(counts[2] / 6000.0, expected - 0.03, expected + 0.03);
    }

    [Fact]
    public void TemperatureSharpensAndFlattens()
    {
        float[] logits = [0f, 1f];
        var cold = Histogram(new SamplingOptions(Temperature: 0.25, Seed: 3), logits, 4000);
        var hot = Histogram(new SamplingOptions(Temperature: 4, Seed: 3), logits, 4000);
        double pCold = 1 / (1 + Math.Exp(-4)), pHot = 1 / (1 + Math.Exp(-0.25));
        Assert.InRange(cold[1] / 4000.0, pCold - 0.02, pCold + 0.02);
        Assert.InRange(hot[1] / 4000.0, pHot - 0.03, pHot + 0.03);
    }

    [Fact]
    public void SameSeedSameTokensDifferentSeedDifferentTokens()
    {
        var logits = Enumerable.Range(0, 100).Select(i => (float)Math.Sin(i)).ToArray();
        int[] Run(ulong seed)
        {
            var s = new Sampler(new SamplingOptions(Temperature: 1.5, TopK: 50, TopP: 0.95, Seed: seed));
            return Enumerable.Range(0, 64).Select(_ => s.Sample(logits)).ToArray();
        }
        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingOptions(Temperature: -1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingOptions(TopK: -2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingOptions(TopP: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingOptions(TopP: 1.5)));
    }
}
