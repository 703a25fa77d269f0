using System.CommandLine;
using System.Diagnostics;
using MarlinSharp.Cli.Benchmarks;
using MarlinSharp.Cuda;
using MarlinSharp.Formats;
using MarlinSharp.Layers;
using MarlinSharp.Quantization;

namespace MarlinSharp.Cli.Commands;

/// <summary>
/// The README's first command: quantize and pack one FP16 layer on the CPU, run it on the GPU, check the INT4
/// output against cuBLAS FP16 on the dequantized weights, and print the speedup.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var k = new Option<int>("--in-features", "-k") { Description = "Input features of the demo layer.", DefaultValueFactory = _ => 8192 };
        var n = new Option<int>("--out-features", "-n") { Description = "Output features of the demo layer.", DefaultValueFactory = _ => 28672 };
        var group = new Option<int>("--group") { Description = "Group size (128, 64, 32 or -1).", DefaultValueFactory = _ => 128 };
        var command = new Command("demo", "Pack one layer, run it on the GPU, check it against FP16 and print the speedup.") { k, n, group };
        command.SetAction(r => CliAction.Run(() => Run(r.GetValue(k), r.GetValue(n), r.GetValue(group))));
        return command;
    }

    private static int Run(int k, int n, int groupSize)
    {
        var layout = new MarlinLayout(k, n, groupSize);
        Console.WriteLine($"Layer: {k} inputs x {n} outputs, group size {groupSize}");

        var watch = Stopwatch.StartNew();
        Half[] weight = RandomHalves((long)n * k, 0.02, seed: 1);   // nn.Linear layout [out][in]
        Console.WriteLine($"  random FP16 weights      {watch.ElapsedMilliseconds,6} ms");
        watch.Restart();
        QuantizedWeights quantized = RtnQuantizer.QuantizeLinear(weight, layout);
        Console.WriteLine($"  RTN quantization         {watch.ElapsedMilliseconds,6} ms");
        watch.Restart();
        MarlinPackedWeights packed = MarlinPacker.Pack(quantized.Codes, quantized.Scales, layout);
        Console.WriteLine($"  Marlin packing           {watch.ElapsedMilliseconds,6} ms ({packed.B.Length * 4L / 1e6:F1} MB packed vs {2.0 * k * n / 1e6:F1} MB FP16)");
        var (codes, scales) = MarlinPacker.Unpack(packed);
        if (!codes.AsSpan().SequenceEqual(quantized.Codes) || !scales.AsSpan().SequenceEqual(quantized.Scales))
            throw new InvalidOperationException("Unpacking the packed layer did not give back the quantized codes and scales.");
        Console.WriteLine("  unpack round trip        ok");

        if (!CudaContext.IsGpuAvailable(out string reason))
        {
            Console.WriteLine($"No CUDA GPU, so the GPU part is skipped: {reason}");
            return CliAction.NoGpu;
        }

        using var runtime = MarlinRuntime.Create();
        using var stream = runtime.CreateStream();
        Console.WriteLine($"GPU: {runtime.Device.Name} ({runtime.Device.Architecture})");
        const int rows = 16;
        Half[] input = RandomHalves((long)rows * k, 1.0, seed: 2);
        Half[] dequantizedKN = MarlinReference.Dequantize(quantized.Codes, quantized.Scales, layout);
        Half[] dequantizedLinear = Transpose(dequantizedKN, k, n);

        using var marlin = MarlinLinear.FromPacked(runtime, packed);
        using var cublas = CublasLinear.FromWeights(runtime, dequantizedLinear, k, n);
        using var x = runtime.Context.Upload<Half>(input);
        using var yInt4 = runtime.Context.Allocate<Half>((long)rows * n);
        using var yFp16 = runtime.Context.Allocate<Half>((long)rows * n);
        marlin.Forward(x, yInt4, rows, stream);
        cublas.Forward(x, yFp16, rows, stream);
        stream.Synchronize();
        double rel = MeanRelativeDifference(yInt4.ToArray(), yFp16.ToArray());
        Console.WriteLine($"  INT4 vs FP16 (same dequantized weights): mean relative difference {rel:E2} {(rel <= 1e-3 ? "ok" : "TOO LARGE")}");
        if (rel > 1e-3) return CliAction.Failure;

        using var bench = new GemmBenchmark(runtime, groupSize, seed: 3);
        foreach (var p in bench.MeasureShape("demo", k, n, [1, 16], copyBandwidthGBs: double.NaN))
            Console.WriteLine($"  m={p.M,-3} FP16 {p.Fp16Ms:F4} ms   INT4 {p.Int4Ms:F4} ms   speedup {p.Speedup:F2}x");
        return 0;
    }

    private static Half[] RandomHalves(long count, double scale, int seed)
    {
        var result = new Half[count];
        Parallel.For(0, (int)((count + 65535) / 65536), chunk =>
        {
            var random = new Random(seed * 7919 + chunk);
            long end = Math.Min(count, (chunk + 1L) * 65536);
            for (long i = chunk * 65536L; i < end; i++) result[i] = (Half)(scale * (2 * random.NextDouble() - 1));
        });
        return result;
    }

    private static Half[] Transpose(Half[] kn, int k, int n)
    {
        var result = new Half[kn.Length];
        Parallel.For(0, n, j =>
        {
            for (int i = 0; i < k; i++) result[(long)j * k + i] = kn[(long)i * n + j];
        });
        return result;
    }

    private static double MeanRelativeDifference(Half[] actual, Half[] expected)
    {
        double diff = 0, magnitude = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = (double)actual[i], e = (double)expected[i];
            if (!double.IsFinite(a)) return double.PositiveInfinity;
            diff += Math.Abs(a - e);
            magnitude += Math.Abs(e);
        }
        return diff / magnitude;
    }
}
