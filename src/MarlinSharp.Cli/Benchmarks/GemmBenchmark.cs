using MarlinSharp.Cuda;
using MarlinSharp.Formats;
using MarlinSharp.Kernels;
using MarlinSharp.Layers;

namespace MarlinSharp.Cli.Benchmarks;

internal sealed record GemmPoint(string Set, int K, int N, int M, string Config, double Fp16Ms, double Int4Ms, double Int4Bytes, double CopyBandwidthGBs)
{
    public double Speedup => Fp16Ms / Int4Ms;
    public double Int4Tflops => 2.0 * M * K * N / (Int4Ms * 1e9);
    public double Fp16Tflops => 2.0 * M * K * N / (Fp16Ms * 1e9);
    public double Int4GBs => Int4Bytes / (Int4Ms * 1e6);
    public double PercentOfCopyBandwidth => 100 * Int4GBs / CopyBandwidthGBs;
}

internal sealed record LayerSetPoint(string Set, int M, double Fp16Ms, double Int4Ms)
{
    public double Speedup => Fp16Ms / Int4Ms;
}

/// <summary>
/// FP16 (cuBLAS) against INT4 (Marlin) on the same GPU, in the same process, on the same random activations.
/// Weight buffers are replicated until one rotation spans three times the L2 cache, so that every launch
/// reads its weights from HBM as it would in a real model.
/// </summary>
internal sealed class GemmBenchmark : IDisposable
{
    private readonly MarlinRuntime _runtime;
    private readonly CudaStream _stream;
    private readonly DeviceRandom _random;
    private readonly GpuTimer _timer;
    private readonly int _groupSize;
    private readonly IMarlinKernelVariant? _config;
    private ulong _seed;

    public GemmBenchmark(MarlinRuntime runtime, int groupSize, ulong seed, IMarlinKernelVariant? config = null)
    {
        _runtime = runtime;
        _stream = runtime.CreateStream();
        _random = new DeviceRandom(runtime);
        _timer = new GpuTimer(runtime.Context, _stream);
        _groupSize = groupSize;
        _config = config;
        _seed = seed;
    }

    /// <summary>Device-to-device copy bandwidth, counting bytes read plus bytes written (the ceiling we compare against).</summary>
    public double MeasureCopyBandwidthGBs() => CopyBandwidth.MeasureGBs(_runtime, _stream, _random, _timer, _seed++);

    public IReadOnlyList<GemmPoint> MeasureShape(string set, int k, int n, IReadOnlyList<int> batchSizes, double copyBandwidthGBs, Action<GemmPoint>? onPoint = null)
    {
        var layout = new MarlinLayout(k, n, _groupSize);
        int maxM = batchSizes.Max();
        long int4Bytes = layout.PackedWordCount * 4 + (long)layout.ScaleRows * n * 2, fp16Bytes = 2L * k * n;
        long actBytes = 2L * maxM * (k + n);
        long l2 = Math.Max(_runtime.Device.L2CacheBytes, 1 << 20);
        int int4Copies = (int)Math.Clamp((3 * l2 + int4Bytes - 1) / int4Bytes, 1, 64);
        int fp16Copies = (int)Math.Clamp((3 * l2 + fp16Bytes - 1) / fp16Bytes, 1, 64);
        long need = int4Copies * int4Bytes + fp16Copies * fp16Bytes + actBytes;
        var (free, _) = _runtime.Context.MemoryInfo();
        if (need > free * 0.9)
            throw new InvalidOperationException($"Shape {k}x{n} at m={maxM} needs {need / 1e9:F1} GB of GPU memory; {free / 1e9:F1} GB are free. Use a smaller --m list.");

        using var a = _runtime.Context.Allocate<Half>((long)maxM * k);
        using var c = _runtime.Context.Allocate<Half>((long)maxM * n);
        _random.FillUniform(a, -1, 1, _seed++, _stream);
        var int4 = new List<MarlinDeviceWeights>();
        var fp16 = new List<CublasLinear>();
        try
        {
            for (int i = 0; i < int4Copies; i++)
            {
                var w = MarlinDeviceWeights.Allocate(_runtime.Context, layout);
                int4.Add(w);
                _random.FillBits(w.B, _seed++, _stream);
                _random.FillUniform(w.Scales, 0.002f, 0.01f, _seed++, _stream);
            }
            for (int i = 0; i < fp16Copies; i++)
            {
                var weight = _runtime.Context.Allocate<Half>((long)k * n);
                fp16.Add(CublasLinear.FromDevice(_runtime, weight, k, n));
                _random.FillUniform(weight, -0.03f, 0.03f, _seed++, _stream);
            }
            _stream.Synchronize();

            var points = new List<GemmPoint>();
            foreach (int m in batchSizes)
            {
                double fp16Ms = _timer.MedianMilliseconds(i => fp16[i].Forward(a, c, m, _stream), fp16Copies);
                // A forced streamed configuration follows the batch size (8 or 16 rows per launch).
                IMarlinKernelVariant? forced = _config is MarlinStreamConfig s ? s with { BatchBlocks = m <= 8 ? 1 : 2 } : _config;
                double int4Ms = _timer.MedianMilliseconds(i => MarlinGemm.Multiply(_runtime, a, int4[i], c, m, _stream, forced), int4Copies);
                IMarlinKernelVariant first = forced ?? MarlinKernelSelector.ChooseLaunch(m, n, k, MarlinGemm.KernelGroupSize(layout), _runtime.Device,
                    _runtime.StreamSmallBatches, _runtime.WideBatches);
                string config = first.ToString() ?? "";
                int rowsPerLaunch = first is MarlinWideConfig wide ? wide.Rows : MarlinGemm.MaxRowsPerLaunch;
                int launches = (m + rowsPerLaunch - 1) / rowsPerLaunch;
                double bytes = (double)int4Bytes * launches + 2.0 * m * (k + n);
                var point = new GemmPoint(set, k, n, m, config, fp16Ms, int4Ms, bytes, copyBandwidthGBs);
                points.Add(point);
                onPoint?.Invoke(point);
            }
            return points;
        }
        finally
        {
            _stream.Synchronize();
            foreach (var w in int4) w.Dispose();
            foreach (var l in fp16) l.Dispose();
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _random.Dispose();
        _stream.Dispose();
    }
}
