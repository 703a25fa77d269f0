using System.Diagnostics;
using MarlinSharp.Formats;

namespace MarlinSharp.Tests.Formats;

/// <summary>
/// Timing of the packer and the CPU reference on large shapes. The limits are generous (shared CI cores, Debug builds);
/// the measured times are written to the test output.
/// </summary>
[Trait("Category", "Performance")]
public class PackPerformanceTests
{
    [Fact]
    public void Packs8192x28672Quickly()
    {
        const int k = 8192, n = 28672, seed = 8192;
        var layout = new MarlinLayout(k, n, 128);
        var rng = new Random(seed);
        byte[] codes = new byte[(long)k * n];
        rng.NextBytes(codes);
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] &= 15;
        }

        Half[] scales = FormatTestSupport.RandomScales(rng, layout.ScaleCount);
        MarlinPacker.Pack(codes.AsSpan(0, 128 * 64), scales.AsSpan(0, 64), new MarlinLayout(128, 64, -1)); // warm-up (JIT)

        var sw = Stopwatch.StartNew();
        MarlinPackedWeights packed = MarlinPacker.Pack(codes, scales, layout);
        double packMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var (back, _) = MarlinPacker.Unpack(packed);
        double unpackMs = sw.Elapsed.TotalMilliseconds;
        TestContext.Current.TestOutputHelper?.WriteLine($"Pack {k}x{n}: {packMs:F0} ms; Unpack: {unpackMs:F0} ms ({Environment.ProcessorCount} cores)");

        Assert.True(codes.AsSpan().SequenceEqual(back), $"round trip differs (seed {seed})");
        Assert.True(packMs < 10_000, $"Pack took {packMs:F0} ms");
    }

    [Fact]
    public void ReferenceMultiplyHandlesM64K4096N4096()
    {
        const int m = 64, k = 4096, n = 4096, seed = 64;
        var rng = new Random(seed);
        Half[] a = FormatTestSupport.RandomWeights(rng, m * k);
        Half[] w = FormatTestSupport.RandomWeights(rng, k * n);
        var sw = Stopwatch.StartNew();
        double[] c = MarlinReference.Multiply(a, m, w, k, n);
        double ms = sw.Elapsed.TotalMilliseconds;
        TestContext.Current.TestOutputHelper?.WriteLine($"Multiply m={m} k={k} n={n}: {ms:F0} ms");

        // Spot-check a few entries against a direct sum.
        foreach (var (i, j) in new[] { (0, 0), (63, 4095), (17, 2049) })
        {
            double sum = 0;
            for (int kk = 0; kk < k; kk++)
            {
                sum += (double)a[(i * k) + kk] * (double)w[(kk * n) + j];
            }

            Assert.True(Math.Abs(sum - c[(i * n) + j]) <= 1e-9 * (1 + Math.Abs(sum)), $"C[{i}][{j}] (seed {seed})");
        }

        Assert.True(ms < 20_000, $"Multiply took {ms:F0} ms");
    }
}
