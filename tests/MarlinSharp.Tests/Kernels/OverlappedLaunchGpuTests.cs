using MarlinSharp.Cuda;
using MarlinSharp.Formats;
using MarlinSharp.Kernels;
using MarlinSharp.Layers;
using MarlinSharp.Quantization;

namespace MarlinSharp.Tests.Kernels;

/// <summary>
/// Programmatic dependent launch: a GEMM may start while the one before it still runs, so each must wait for its
/// predecessor's output before reading its activations. A chain of layers, each reading the previous one's output from
/// a buffer poisoned with NaN beforehand, catches any GEMM that reads too early.
/// </summary>
public class OverlappedLaunchGpuTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(40)]
    public void ChainedLayersMatchTheReferenceWithAndWithoutOverlap(int rows)
    {
        Gpu.RequireDevice();
        using var runtime = MarlinRuntime.ForContext(Gpu.Context);
        if (!runtime.Device.SupportsProgrammaticDependentLaunch)
            Assert.Skip($"{runtime.Device.Name} (sm_{runtime.Device.ComputeCapabilityMajor}{runtime.Device.ComputeCapabilityMinor}) has no programmatic dependent launch; it needs sm_90 or newer.");
        int seed = GpuRuntime.FreshSeed();
        var random = new Random(seed);
        (int K, int N)[] shapes = [(1024, 2048), (2048, 1024), (1024, 4096), (4096, 1024), (1024, 1024), (1024, 2048)];

        var layers = new List<MarlinLinear>();
        var dequantized = new List<Half[]>();       // [k][n] each
        var outputs = new List<DeviceBuffer<Half>>();
        try
        {
            foreach (var (k, n) in shapes)
            {
                // Weights of magnitude ~1/sqrt(k) keep activations of order one through the chain.
                var w = new Half[n * k];
                double amplitude = 1.7 / Math.Sqrt(k);
                for (int i = 0; i < w.Length; i++) w[i] = (Half)(amplitude * (2 * random.NextDouble() - 1));
                var layer = MarlinLinear.FromWeights(runtime, w, k, n, groupSize: 128);
                layers.Add(layer);
                var q = RtnQuantizer.QuantizeLinear(w, layer.Layout);
                dequantized.Add(MarlinReference.Dequantize(q.Codes, q.Scales, layer.Layout));
                outputs.Add(runtime.Context.Allocate<Half>((long)rows * n));
            }
            var input = new Half[rows * shapes[0].K];
            for (int i = 0; i < input.Length; i++) input[i] = (Half)(2 * random.NextDouble() - 1);
            using var x = runtime.Context.Upload<Half>(input);
            using var stream = runtime.CreateStream();

            Half[] Run(bool overlap)
            {
                runtime.OverlapKernels = overlap;
                foreach (var o in outputs) o.Fill32(0xFFFF_FFFFu, stream);    // NaN: a GEMM reading too early shows
                DeviceSpan<Half> a = x;
                for (int l = 0; l < layers.Count; l++)
                {
                    MarlinGemm.Multiply(runtime, a, layers[l].Weights, outputs[l], rows, stream);
                    a = outputs[l];
                }
                stream.Synchronize();
                return outputs[^1].ToArray();
            }

            Half[] overlapped = Run(overlap: true);
            Assert.True(runtime.OverlapKernels, "OverlapKernels should stay on for a device that supports it.");
            Half[] plain = Run(overlap: false);
            Assert.False(runtime.OverlapKernels);

            Half[] expected = input;
            for (int l = 0; l < shapes.Length; l++)
            {
                double[] y = MarlinReference.Multiply(expected, rows, dequantized[l], shapes[l].K, shapes[l].N);
                expected = y.Select(v => (Half)v).ToArray();
            }
            double error = RelativeError(overlapped, expected);
            Assert.True(error <= 5e-3, $"overlapped chain vs reference: mean relative error {error:E2} (seed {seed}, rows {rows})");
            Assert.True(overlapped.AsSpan().SequenceEqual(plain), $"overlapped and plain launches differ (seed {seed}, rows {rows})");

            // Many overlapped runs in a row stay bitwise identical.
            for (int run = 0; run < 10; run++)
                Assert.True(overlapped.AsSpan().SequenceEqual(Run(overlap: true)), $"overlapped run {run} differs (seed {seed}, rows {rows})");
        }
        finally
        {
            foreach (var o in outputs) o.Dispose();
            foreach (var l in layers) l.Dispose();
        }
    }

    private static double RelativeError(Half[] actual, Half[] expected)
    {
        double diff = 0, magnitude = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double v = (double)actual[i];
            if (!double.IsFinite(v)) return double.PositiveInfinity;
            diff += Math.Abs(v - (double)expected[i]);
            magnitude += Math.Abs((double)expected[i]);
        }
        return diff / magnitude;
    }
}
