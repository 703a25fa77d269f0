using MarlinSharp.Cuda;
using MarlinSharp.Formats;
using MarlinSharp.Kernels;
using MarlinSharp.Layers;

namespace MarlinSharp.Tests.Kernels;

/// <summary>
/// The streamed kernel's fused epilogues (residual add with row sums of squares, RMS-normed rows, normed SwiGLU) on a
/// real GPU against float64 references computed from the dequantised weights, on shapes that split a chunk over a full
/// cluster, over uneven block runs and not at all, at 1..16 rows. Outputs and sums are poisoned first, so every value
/// must be written.
/// </summary>
public class FusedEpilogueGpuTests
{
    private const float Eps = 1e-5f;
    private const ushort HalfPoison = 0x7E00;

    public static TheoryData<int, int, int, int, StreamEpilogue, int> Cases()
    {
        var data = new TheoryData<int, int, int, int, StreamEpilogue, int>();
        foreach (var epilogue in new[] { StreamEpilogue.Residual, StreamEpilogue.Normed, StreamEpilogue.NormedSwiGlu })
            foreach (int groupSize in new[] { -1, 128, 32 })
                foreach (int warps in new[] { 4, 8 })
                    foreach (var (k, n) in new[] { (4096, 64), (1408, 192), (256, 320), (2048, 1024) })
                        foreach (int chunksPerCta in new[] { 1, 2, 4 })
                            if (n % (64 * chunksPerCta) == 0)
                                data.Add(k, n, groupSize, warps, epilogue, chunksPerCta);
        return data;
    }

    /// <summary>Random codes, scales and activations; the product S = A·dequant(B) in float64.</summary>
    private sealed class Problem : IDisposable
    {
        /// <param name="scaleSize">Size of the quantisation scales: normed outputs are of order sqrt(k) times it, and SwiGLU
        /// multiplies two of them, so keep them small enough for FP16.</param>
        public Problem(MarlinRuntime runtime, int k, int n, int groupSize, int rows, int seed, double scaleSize = 0.4)
        {
            K = k;
            N = n;
            Rows = rows;
            Layout = new MarlinLayout(k, n, groupSize);
            var random = new Random(seed);
            byte[] codes = new byte[(long)k * n];
            random.NextBytes(codes);
            for (int i = 0; i < codes.Length; i++) codes[i] &= 0xF;
            Half[] scales = new Half[(long)Layout.ScaleRows * n];
            for (int i = 0; i < scales.Length; i++) scales[i] = (Half)(scaleSize * (0.5 + random.NextDouble()));
            A = new Half[rows * k];
            // Rows of different magnitudes, so that a wrong row's norm shows.
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < k; i++) A[r * k + i] = (Half)((0.5 + r) * (2 * random.NextDouble() - 1));
            Sums = MarlinReference.Multiply(A, rows, MarlinReference.Dequantize(codes, scales, Layout), k, n);
            Weights = MarlinDeviceWeights.Upload(runtime.Context, MarlinPacker.Pack(codes, scales, Layout));
            Random = random;
        }

        public int K { get; }
        public int N { get; }
        public int Rows { get; }
        public MarlinLayout Layout { get; }
        public Half[] A { get; }
        public double[] Sums { get; }
        public MarlinDeviceWeights Weights { get; }
        public Random Random { get; }

        /// <summary>1/rms of each row of A, and its [rows][k/16] block sums of squares as the residual epilogue writes them.</summary>
        public (double[] Rstd, float[] Squares) RowNorms()
        {
            var rstd = new double[Rows];
            var squares = new float[Rows * (K / 16)];
            for (int r = 0; r < Rows; r++)
            {
                double total = 0;
                for (int b = 0; b < K / 16; b++)
                {
                    double s = 0;
                    for (int i = 0; i < 16; i++) s += (double)A[r * K + 16 * b + i] * (double)A[r * K + 16 * b + i];
                    squares[r * (K / 16) + b] = (float)s;
                    total += s;
                }
                rstd[r] = 1 / Math.Sqrt(total / K + Eps);
            }
            return (rstd, squares);
        }

        public void Dispose() => Weights.Dispose();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedEpilogueMatchesTheFloat64Reference(int k, int n, int groupSize, int warps, StreamEpilogue epilogue, int chunksPerCta)
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        using var stream = runtime.CreateStream();
        int seed = GpuRuntime.FreshSeed();
        using var problem = new Problem(runtime, k, n, groupSize, 16, seed, epilogue == StreamEpilogue.NormedSwiGlu ? 0.04 : 0.4);
        var failures = new List<string>();
        foreach (int rows in new[] { 1, 2, 3, 7, 8, 9, 12, 16 })
        {
            var config = MarlinStreamConfig.For(rows, groupSize, warps, epilogue: epilogue, chunksPerCta: chunksPerCta);
            string? failure = epilogue switch
            {
                StreamEpilogue.Residual => CheckResidual(runtime, stream, problem, rows, config),
                _ => CheckNormed(runtime, stream, problem, rows, config),
            };
            if (failure is not null) failures.Add($"{config} rows {rows}: {failure}");
        }
        Assert.True(failures.Count == 0, $"seed {seed}, k={k} n={n} g={groupSize}:\n" + string.Join("\n", failures));
    }

    /// <summary>Each epilogue once on a small layer split unevenly over a cluster (quick enough for compute-sanitizer runs).</summary>
    [Fact]
    public void EveryEpilogueOnceOnASmallLayer()
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        using var stream = runtime.CreateStream();
        int seed = GpuRuntime.FreshSeed();
        var failures = new List<string>();
        foreach (var epilogue in new[] { StreamEpilogue.Residual, StreamEpilogue.Normed, StreamEpilogue.NormedSwiGlu })
        {
            using var problem = new Problem(runtime, 1408, 192, 128, 16, seed, epilogue == StreamEpilogue.NormedSwiGlu ? 0.04 : 0.4);
            foreach (int rows in new[] { 3, 9 })
            {
                var config = MarlinStreamConfig.For(rows, 128, 8, epilogue: epilogue);
                string? failure = epilogue == StreamEpilogue.Residual ? CheckResidual(runtime, stream, problem, rows, config) : CheckNormed(runtime, stream, problem, rows, config);
                if (failure is not null) failures.Add($"{config} rows {rows}: {failure}");
            }
        }
        Assert.True(failures.Count == 0, $"seed {seed}:\n" + string.Join("\n", failures));
    }

    /// <summary>
    /// A layer with more 64-column chunks than the GPU has SMs, as a decode chain's QKV and gate|up: up to 8 rows it runs
    /// with no k split (one CTA per chunk), at 9..16 rows split over clusters; both against the float64 reference.
    /// </summary>
    [Fact]
    public void WideFusedLayersMatchTheReferenceSplitOrNot()
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        using var stream = runtime.CreateStream();
        int seed = GpuRuntime.FreshSeed();
        int k = 1024, n = 64 * (runtime.Device.MultiprocessorCount + 2);
        var failures = new List<string>();
        foreach (var epilogue in new[] { StreamEpilogue.Normed, StreamEpilogue.NormedSwiGlu, StreamEpilogue.Residual })
        {
            using var problem = new Problem(runtime, k, n, 128, 16, seed, epilogue == StreamEpilogue.NormedSwiGlu ? 0.04 : 0.4);
            foreach (int rows in new[] { 1, 5, 8, 16 })
            {
                var config = MarlinKernelSelector.ChooseFused(rows, n, 128, runtime.Device, epilogue);
                var plan = MarlinGemm.DescribeStreamed(runtime, config, rows, n, k).Plan;
                if (runtime.Device.ComputeCapabilityMajor >= 9 && (rows <= 8) != (plan.KParts == 1))
                    failures.Add($"{config} rows {rows}: {plan.KParts} k parts");
                string? failure = epilogue == StreamEpilogue.Residual ? CheckResidual(runtime, stream, problem, rows, config) : CheckNormed(runtime, stream, problem, rows, config);
                if (failure is not null) failures.Add($"{config} rows {rows}: {failure}");
            }
        }
        Assert.True(failures.Count == 0, $"seed {seed}, k={k} n={n}:\n" + string.Join("\n", failures));
    }

    private static string? CheckResidual(MarlinRuntime runtime, CudaStream stream, Problem p, int rows, MarlinStreamConfig config)
    {
        int n = p.N;
        Half[] residual = new Half[rows * n];
        for (int i = 0; i < residual.Length; i++) residual[i] = (Half)(4 * p.Random.NextDouble() - 2);
        using var a = runtime.Context.Upload<Half>(p.A.AsSpan(0, rows * p.K));
        using var c = runtime.Context.Upload<Half>(residual);
        using var squares = runtime.Context.Allocate<float>(rows * (n / 16));
        squares.Fill32(0x7fc00000u, stream);
        MarlinGemm.MultiplyFused(runtime, a, p.Weights, c, rows, stream, config, squares, 0f);
        stream.Synchronize();
        Half[] got = c.ToArray();
        float[] sq = squares.ToArray();
        double diff = 0, magnitude = 0;
        for (int i = 0; i < rows * n; i++)
        {
            double expected = (double)residual[i] + p.Sums[i], v = (double)got[i];
            if (!double.IsFinite(v)) return $"C[{i / n}][{i % n}] is {v}";
            diff += Math.Abs(v - expected);
            magnitude += Math.Abs(p.Sums[i]);
        }
        if (diff / magnitude > 1e-3) return $"mean relative error {diff / magnitude:E2} against the product";
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < n / 16; b++)
            {
                double expected = 0;
                for (int i = 0; i < 16; i++) expected += (double)got[r * n + 16 * b + i] * (double)got[r * n + 16 * b + i];
                float v = sq[r * (n / 16) + b];
                if (!(Math.Abs(v - expected) <= 1e-5 * expected + 1e-6)) return $"rowSquares[{r}][{b}] = {v}, expected {expected} from the written C";
            }
        return null;
    }

    private static string? CheckNormed(MarlinRuntime runtime, CudaStream stream, Problem p, int rows, MarlinStreamConfig config)
    {
        bool swiglu = config.Epilogue == StreamEpilogue.NormedSwiGlu;
        int n = p.N, outCols = swiglu ? n / 2 : n;
        var (rstd, squares) = p.RowNorms();
        using var a = runtime.Context.Upload<Half>(p.A.AsSpan(0, rows * p.K));
        using var sq = runtime.Context.Upload<float>(squares.AsSpan(0, rows * (p.K / 16)));
        using var c = runtime.Context.Allocate<Half>(rows * outCols);
        c.Fill32(0x7E007E00u, stream);
        MarlinGemm.MultiplyFused(runtime, a, p.Weights, c, rows, stream, config, sq, Eps);
        stream.Synchronize();
        Half[] got = c.ToArray();
        double diff = 0, magnitude = 0;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < outCols; j++)
            {
                double expected;
                if (swiglu)
                {
                    int chunk = j / 32, within = j % 32;
                    double gate = rstd[r] * p.Sums[r * n + 64 * chunk + within], up = rstd[r] * p.Sums[r * n + 64 * chunk + 32 + within];
                    expected = gate / (1 + Math.Exp(-gate)) * up;
                }
                else expected = rstd[r] * p.Sums[r * n + j];
                Half h = got[r * outCols + j];
                if (BitConverter.HalfToUInt16Bits(h) == HalfPoison) return $"C[{r}][{j}] was not written";
                double v = (double)h;
                if (!double.IsFinite(v)) return $"C[{r}][{j}] is {v}";
                diff += Math.Abs(v - expected);
                magnitude += Math.Abs(expected);
            }
        // SwiGLU rounds silu to FP16 before the product, as the engine's unfused kernel does.
        double tolerance = swiglu ? 2e-3 : 1e-3;
        return diff / magnitude > tolerance ? $"mean relative error {diff / magnitude:E2}" : null;
    }

    [Fact]
    public void ResidualEpilogueIsBitwiseReproducible()
    {
        MarlinRuntime runtime = GpuRuntime.Get();
        using var stream = runtime.CreateStream();
        using var problem = new Problem(runtime, 11008, 4096, 128, 8, GpuRuntime.FreshSeed());
        var config = MarlinKernelSelector.ChooseFused(8, 4096, 128, runtime.Device, StreamEpilogue.Residual);
        Half[] residual = new Half[8 * 4096];
        for (int i = 0; i < residual.Length; i++) residual[i] = (Half)(problem.Random.NextDouble() - 0.5);
        using var a = runtime.Context.Upload<Half>(problem.A);
        using var c = runtime.Context.Allocate<Half>(residual.Length);
        using var squares = runtime.Context.Allocate<float>(8 * 4096 / 16);
        (Half[] C, float[] Sq) Run()
        {
            c.CopyFrom(residual);
            MarlinGemm.MultiplyFused(runtime, a, problem.Weights, c, 8, stream, config, squares, 0f);
            stream.Synchronize();
            return (c.ToArray(), squares.ToArray());
        }
        var first = Run();
        for (int run = 1; run < 10; run++)
        {
            var next = Run();
            Assert.True(first.C.AsSpan().SequenceEqual(next.C), $"Run {run}: C differs from run 0.");
            Assert.True(first.Sq.AsSpan().SequenceEqual(next.Sq), $"Run {run}: the row sums of squares differ from run 0.");
        }
    }
}
