using MarlinSharp.Cuda;
using MarlinSharp.Formats;
using MarlinSharp.IO;
using MarlinSharp.Kernels;
using MarlinSharp.Layers;
using MarlinSharp.Verification;

namespace MarlinSharp.Tests.Kernels;

/// <summary>
/// The kernel on a real GPU against float64 references: the batch-size sweep over several shapes and every
/// group size, every compiled configuration, the reference packer's vectors, determinism and concurrent streams.
/// </summary>
public class MarlinGemmGpuTests
{
    public static TheoryData<int, int, int> SweepCases()
    {
        var data = new TheoryData<int, int, int>();
        foreach (var (k, n) in GemmVerifier.SweepShapes)
            foreach (int g in GemmVerifier.SweepGroupSizes)
                if (k % Math.Abs(g) == 0) data.Add(k, n, g);
        return data;
    }

    [Theory]
    [MemberData(nameof(SweepCases))]
    public void SweepOfBatchSizesMatchesFloat64Reference(int k, int n, int groupSize)
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        using var stream = runtime.CreateStream();
        using var verifier = new GemmVerifier(runtime, k, n, groupSize, GemmVerifier.SweepRows.Max(), GpuRuntime.FreshSeed());
        var failures = GemmVerifier.SweepRows.Select(rows => verifier.Check(rows, stream)).Where(c => !c.Passed).ToList();
        Assert.True(failures.Count == 0, "Failed:\n" + string.Join("\n", failures));
    }

    public static TheoryData<string> AllConfigurations()
    {
        var data = new TheoryData<string>();
        foreach (var c in TestDevices.AllSelectable) data.Add(TestDevices.Format(c));
        return data;
    }

    [Theory]
    [MemberData(nameof(AllConfigurations))]
    public void EveryConfigurationMatchesTheReference(string configuration)
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        var config = TestDevices.Parse(configuration);
        if (config.SharedMemoryBytes > runtime.Device.MaxSharedMemoryPerBlockOptin)
            Assert.Skip($"{config} needs {config.SharedMemoryBytes} bytes of shared memory; {runtime.Device.Name} offers {runtime.Device.MaxSharedMemoryPerBlockOptin}.");
        using var stream = runtime.CreateStream();
        int rowsPerLaunch = config.RowsPerLaunch;
        using var verifier = new GemmVerifier(runtime, 1024, 768, config.GroupSize, rowsPerLaunch, GpuRuntime.FreshSeed());
        foreach (int rows in new[] { rowsPerLaunch, rowsPerLaunch - 5, 1 }.Where(r => r >= 1).Distinct())
        {
            GemmCheck check = verifier.Check(rows, stream, config);
            Assert.True(check.Passed, check.ToString());
        }
    }

    public static TheoryData<string> VectorFiles() => Formats.ReferenceVectorTests.VectorFiles();

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void ReferencePackedWeightsReproduceReferenceOutputs(string file)
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        using var vectors = SafeTensorsFile.Open(Path.Combine(Formats.ReferenceVectorTests.VectorFolder, file));
        int k = int.Parse(vectors.Metadata["k"]), n = int.Parse(vectors.Metadata["n"]), g = int.Parse(vectors.Metadata["groupsize"]);
        var packed = new MarlinPackedWeights(new MarlinLayout(k, n, g), vectors.Read<int>("B_packed"), vectors.Read<Half>("s_packed"));
        using var weights = MarlinDeviceWeights.Upload(runtime.Context, packed);
        using var stream = runtime.CreateStream();
        foreach (int m in new[] { 1, 16, 33 })
        {
            using var a = runtime.Context.Upload<Half>(vectors.Read<Half>($"A_m{m}"));
            using var c = runtime.Context.Allocate<Half>((long)m * n);
            c.Fill32(GemmVerifier.PoisonPattern, stream);
            MarlinGemm.Multiply(runtime, a, weights, c, m, stream);
            stream.Synchronize();
            float[] expected = vectors.Read<float>($"C_ref_m{m}");
            Half[] actual = c.ToArray();
            double diff = 0, magnitude = 0;
            for (int i = 0; i < actual.Length; i++)
            {
                double v = (double)actual[i];
                Assert.True(double.IsFinite(v), $"{file} m={m}: element {i} is {actual[i]} (unwritten or overflow).");
                diff += Math.Abs(v - expected[i]);
                magnitude += Math.Abs(expected[i]);
            }
            Assert.True(diff / magnitude <= GemmCheck.Tolerance, $"{file} m={m}: mean relative error {diff / magnitude:E2}");
        }
    }

    [Theory]
    [InlineData(4096, 256, 128, 16)]   // 2 column tiles over 64 CTAs: every column summed by many CTAs
    [InlineData(11008, 4096, 128, 64)]
    [InlineData(2048, 320, -1, 33)]
    public void RepeatedRunsAreBitwiseIdentical(int k, int n, int groupSize, int rows)
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        using var stream = runtime.CreateStream();
        using var verifier = new GemmVerifier(runtime, k, n, groupSize, rows, GpuRuntime.FreshSeed());
        Half[] first = verifier.Run(rows, stream);
        Assert.True(verifier.Compare(rows, first).Passed, verifier.Compare(rows, first).ToString());
        for (int run = 1; run < 20; run++)
            Assert.True(first.AsSpan().SequenceEqual(verifier.Run(rows, stream)), $"Run {run} differs from run 0 (seed {verifier.Seed}).");
    }

    [Fact]
    public void TwoStreamsAtOnceOnDifferentAndOnTheSameLayer()
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        int seed = GpuRuntime.FreshSeed();
        using var layerA = new GemmVerifier(runtime, 4096, 1024, 128, 16, seed);
        using var layerB = new GemmVerifier(runtime, 2048, 512, -1, 16, seed + 1);
        using var s1 = runtime.CreateStream();
        using var s2 = runtime.CreateStream();
        Half[] expectedA = layerA.Run(16, s1), expectedB = layerB.Run(16, s1);
        Assert.True(layerA.Compare(16, expectedA).Passed);
        Assert.True(layerB.Compare(16, expectedB).Passed);

        // Different layers, one per stream, launched from two threads many times.
        void Hammer(GemmVerifier v, CudaStream s, Half[] expected)
        {
            for (int i = 0; i < 30; i++)
                Assert.True(expected.AsSpan().SequenceEqual(v.Run(16, s)), $"stream result {i} differs (seed {seed})");
        }
        Parallel.Invoke(() => Hammer(layerA, s1, expectedA), () => Hammer(layerB, s2, expectedB));

        // The same layer on both streams at once, each with its own output buffer and workspace.
        using var x = runtime.Context.Upload<Half>(RandomHalves(16 * 4096, seed));
        using var y1 = runtime.Context.Allocate<Half>(16 * 1024);
        using var y2 = runtime.Context.Allocate<Half>(16 * 1024);
        MarlinGemm.Multiply(runtime, x, layerA.Weights, y1, 16, s1);
        s1.Synchronize();
        Half[] reference = y1.ToArray();
        Parallel.Invoke(
            () => { for (int i = 0; i < 30; i++) MarlinGemm.Multiply(runtime, x, layerA.Weights, y1, 16, s1); s1.Synchronize(); },
            () => { for (int i = 0; i < 30; i++) MarlinGemm.Multiply(runtime, x, layerA.Weights, y2, 16, s2); s2.Synchronize(); });
        Assert.True(reference.AsSpan().SequenceEqual(y1.ToArray()));
        Assert.True(reference.AsSpan().SequenceEqual(y2.ToArray()));
    }

    [Fact]
    public void MarlinLinearFromFp16WeightsMatchesItsDequantizedReference()
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        int seed = GpuRuntime.FreshSeed();
        const int k = 1024, n = 384, rows = 5;
        Half[] weight = RandomHalves(n * k, seed);                 // [out][in]
        using var layer = MarlinLinear.FromWeights(runtime, weight, k, n, groupSize: 128);
        Assert.Equal((k, n, 128), (layer.InFeatures, layer.OutFeatures, layer.GroupSize));
        Half[] input = RandomHalves(rows * k, seed + 1);
        using var x = runtime.Context.Upload<Half>(input);
        using var y = runtime.Context.Allocate<Half>(rows * n);
        using var stream = runtime.CreateStream();
        layer.Forward(x, y, stream);
        stream.Synchronize();

        var q = Quantization.RtnQuantizer.QuantizeLinear(weight, layer.Layout);
        double[] expected = MarlinReference.Multiply(input, rows, MarlinReference.Dequantize(q.Codes, q.Scales, layer.Layout), k, n);
        double[] original = MarlinReference.Multiply(input, rows, Transpose(weight, n, k), k, n);
        Half[] actual = y.ToArray();
        Assert.True(RelativeError(actual, expected) <= 1e-3, $"kernel vs dequantized reference: {RelativeError(actual, expected):E2} (seed {seed})");
        Assert.InRange(RelativeError(actual, original), 1e-4, 0.2);   // 4-bit RTN error is visible but bounded
    }

    [Fact]
    public void CublasBaselineMatchesFloat64Reference()
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        int seed = GpuRuntime.FreshSeed();
        const int k = 512, n = 256, rows = 7;
        Half[] weight = RandomHalves(n * k, seed);
        Half[] input = RandomHalves(rows * k, seed + 1);
        using var layer = CublasLinear.FromWeights(runtime, weight, k, n);
        using var x = runtime.Context.Upload<Half>(input);
        using var y = runtime.Context.Allocate<Half>(rows * n);
        using var stream = runtime.CreateStream();
        layer.Forward(x, y, rows, stream);
        stream.Synchronize();
        double[] expected = MarlinReference.Multiply(input, rows, Transpose(weight, n, k), k, n);
        Assert.True(RelativeError(y.ToArray(), expected) <= 1e-3);
    }

    [Fact]
    public void DisposedObjectsAreRejectedBeforeLaunch()
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        using var verifier = new GemmVerifier(runtime, 256, 256, 128, 4, GpuRuntime.FreshSeed());
        using var stream = runtime.CreateStream();
        var x = runtime.Context.Allocate<Half>(4 * 256);
        using var y = runtime.Context.Allocate<Half>(20 * 256);
        x.Dispose();
        Assert.Throws<ObjectDisposedException>(() => MarlinGemm.Multiply(runtime, x, verifier.Weights, y, 4, stream));

        using var live = runtime.Context.Allocate<Half>(20 * 256);
        var deadStream = runtime.CreateStream();
        deadStream.Dispose();
        Assert.Throws<ObjectDisposedException>(() => MarlinGemm.Multiply(runtime, live, verifier.Weights, y, 4, deadStream));

        var weight = MarlinDeviceWeights.Allocate(runtime.Context, new MarlinLayout(256, 256, 128));
        weight.Dispose();
        Assert.Throws<ObjectDisposedException>(() => MarlinGemm.Multiply(runtime, live, weight, y, 4, stream));

        var badConfig = new MarlinKernelConfig(1, 128, 128, 4, 0);   // per-channel kernel for g=128 weights
        Assert.Equal(256, verifier.Layout.InFeatures);
        Assert.Equal("configOverride", Assert.Throws<ArgumentException>(() => MarlinGemm.Multiply(runtime, live, verifier.Weights, y, 4, stream, badConfig)).ParamName);
        var tooFewRows = new MarlinKernelConfig(1, 128, 128, 4, 8);
        Assert.Equal("configOverride", Assert.Throws<ArgumentException>(() => MarlinGemm.Multiply(runtime, live, verifier.Weights, y, 4 * 5, stream, tooFewRows)).ParamName);
    }

    private static Half[] RandomHalves(int count, int seed)
    {
        var random = new Random(seed);
        var result = new Half[count];
        for (int i = 0; i < count; i++) result[i] = (Half)(2 * random.NextDouble() - 1);
        return result;
    }

    private static Half[] Transpose(Half[] rowsByCols, int rows, int cols)
    {
        var t = new Half[rowsByCols.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[(long)c * rows + r] = rowsByCols[(long)r * cols + c];
        return t;
    }

    private static double RelativeError(Half[] actual, double[] expected)
    {
        double diff = 0, magnitude = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double v = (double)actual[i];
            if (!double.IsFinite(v)) return double.PositiveInfinity;
            diff += Math.Abs(v - expected[i]);
            magnitude += Math.Abs(expected[i]);
        }
        return diff / magnitude;
    }
}
