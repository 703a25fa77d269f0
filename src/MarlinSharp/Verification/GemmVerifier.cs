using MarlinSharp.Cuda;
using MarlinSharp.Formats;
using MarlinSharp.Kernels;
using MarlinSharp.Layers;

namespace MarlinSharp.Verification;

/// <summary>Outcome of one GPU product checked against a float64 CPU reference.</summary>
public sealed record GemmCheck(int M, int K, int N, int GroupSize, string Config, double MeanRelativeError, double MaxAbsoluteError,
    long NonFinite, long Unwritten, int Seed)
{
    /// <summary>The reference Marlin kernel's own criterion: mean |C − Cref| / mean |Cref| ≤ 1e-3, plus no NaN and every element written.</summary>
    public const double Tolerance = 1e-3;

    public bool Passed => MeanRelativeError <= Tolerance && NonFinite == 0 && Unwritten == 0;

    public override string ToString() =>
        $"m={M,-5} k={K,-5} n={N,-5} g={GroupSize,-4} {Config,-28} rel={MeanRelativeError:E2} maxabs={MaxAbsoluteError:E2} nonfinite={NonFinite} unwritten={Unwritten} seed={Seed} {(Passed ? "PASS" : "FAIL")}";
}

/// <summary>
/// Random layers multiplied on the GPU and compared with a float64 reference computed from the dequantized
/// FP16 weights. The output is poisoned with a NaN pattern before each launch so that an element the kernel
/// never wrote is caught, not mistaken for a zero.
/// </summary>
public sealed class GemmVerifier : IDisposable
{
    /// <summary>The FP16 NaN used as poison (0x7E00 in both halves of every 32-bit word).</summary>
    public const uint PoisonPattern = 0x7E007E00;

    private readonly MarlinRuntime _runtime;
    private readonly MarlinDeviceWeights _weights;
    private readonly DeviceBuffer<Half> _a;
    private readonly DeviceBuffer<Half> _c;
    private readonly double[] _reference;   // [MaxRows][n]

    public GemmVerifier(MarlinRuntime runtime, int k, int n, int groupSize, int maxRows, int seed)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        _runtime = runtime;
        Layout = new MarlinLayout(k, n, groupSize);
        MaxRows = maxRows;
        Seed = seed;

        var random = new Random(seed);
        byte[] codes = new byte[(long)k * n];
        random.NextBytes(codes);
        for (int i = 0; i < codes.Length; i++) codes[i] &= 0xF;
        // Scales of the size RTN gives unit-variance weights (about 2·3/15), varied per group and column.
        Half[] scales = new Half[(long)Layout.ScaleRows * n];
        for (int i = 0; i < scales.Length; i++) scales[i] = (Half)(0.2 + 0.4 * random.NextDouble());
        Half[] a = new Half[(long)maxRows * k];
        for (int i = 0; i < a.Length; i++) a[i] = (Half)(2 * random.NextDouble() - 1);

        Half[] dequantized = MarlinReference.Dequantize(codes, scales, Layout);
        _reference = MarlinReference.Multiply(a, maxRows, dequantized, k, n);
        _weights = MarlinDeviceWeights.Upload(runtime.Context, MarlinPacker.Pack(codes, scales, Layout));
        _a = runtime.Context.Upload<Half>(a);
        _c = runtime.Context.Allocate<Half>((long)maxRows * n);
    }

    public MarlinLayout Layout { get; }
    public int MaxRows { get; }
    public int Seed { get; }
    public MarlinDeviceWeights Weights => _weights;

    /// <summary>Runs the first <paramref name="rows"/> rows and compares them with the reference.</summary>
    public GemmCheck Check(int rows, CudaStream stream, IMarlinKernelVariant? config = null)
    {
        Half[] output = Run(rows, stream, config);
        return Compare(rows, output, config);
    }

    /// <summary>Poisons the output, launches, and returns the FP16 result of the first <paramref name="rows"/> rows.</summary>
    public Half[] Run(int rows, CudaStream stream, IMarlinKernelVariant? config = null)
    {
        if (rows < 1 || rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"Expected 1..{MaxRows}.");
        _c.Fill32(PoisonPattern, stream);
        MarlinGemm.Multiply(_runtime, _a, _weights, _c, rows, stream, config);
        stream.Synchronize();
        Half[] output = new Half[(long)rows * Layout.OutFeatures];
        _c.CopyTo(output);
        return output;
    }

    public GemmCheck Compare(int rows, ReadOnlySpan<Half> output, IMarlinKernelVariant? config = null)
    {
        int n = Layout.OutFeatures;
        double absDiff = 0, absRef = 0, maxAbs = 0;
        long nonFinite = 0, unwritten = 0;
        for (long i = 0; i < (long)rows * n; i++)
        {
            Half h = output[(int)i];
            if (BitConverter.HalfToUInt16Bits(h) == (ushort)(PoisonPattern & 0xFFFF)) { unwritten++; continue; }
            double v = (double)h;
            if (!double.IsFinite(v)) { nonFinite++; continue; }
            double d = Math.Abs(v - _reference[i]);
            absDiff += d;
            absRef += Math.Abs(_reference[i]);
            maxAbs = Math.Max(maxAbs, d);
        }
        double rel = absRef > 0 ? absDiff / absRef : (absDiff > 0 ? double.PositiveInfinity : 0);
        string configName = (config ?? MarlinKernelSelector.ChooseLaunch(rows, n, Layout.InFeatures, MarlinGemm.KernelGroupSize(Layout), _runtime.Device,
            _runtime.StreamSmallBatches, _runtime.WideBatches)).ToString() ?? "";
        return new GemmCheck(rows, Layout.InFeatures, n, Layout.GroupSize, configName, rel, maxAbs, nonFinite, unwritten, Seed);
    }

    public void Dispose()
    {
        _weights.Dispose();
        _a.Dispose();
        _c.Dispose();
    }

    /// <summary>The issue's sweep: batch sizes that cross every m-block and launch-slice boundary.</summary>
    public static IReadOnlyList<int> SweepRows { get; } = [.. Enumerable.Range(1, 16), 17, 31, 33, 64, 127, 128, 255, 1024, 4096];

    /// <summary>(k, n) pairs of the sweep: every tile shape the selector picks (n multiple of 64, 128 and 256), grouped and per-channel.</summary>
    public static IReadOnlyList<(int K, int N)> SweepShapes { get; } = [(256, 256), (1024, 512), (384, 768), (512, 192), (2048, 320)];

    public static IReadOnlyList<int> SweepGroupSizes { get; } = [128, -1, 64, 32];
}
