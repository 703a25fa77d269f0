using MarlinSharp.Cuda;

namespace MarlinSharp.Cli.Benchmarks;

/// <summary>
/// Times device work with CUDA events: warm-up first, then several timed batches of launches that rotate
/// over weight copies (so that the L2 cache never holds the weights), reporting the median per launch.
/// </summary>
internal sealed class GpuTimer : IDisposable
{
    private readonly CudaStream _stream;
    private readonly CudaEvent _start;
    private readonly CudaEvent _stop;

    public GpuTimer(CudaContext context, CudaStream stream)
    {
        _stream = stream;
        _start = context.CreateEvent();
        _stop = context.CreateEvent();
    }

    /// <param name="launch">Enqueues one launch on the stream using weight copy number <c>copy</c>.</param>
    public double MedianMilliseconds(Action<int> launch, int copies, double targetBatchMs = 25, int batches = 7)
    {
        int next = 0;
        void Run(int count)
        {
            for (int i = 0; i < count; i++) { launch(next); next = (next + 1) % copies; }
        }

        Run(Math.Max(3, copies));                  // warm-up: module load, workspace allocation, clocks
        double single = Time(Run, 1);
        int perBatch = (int)Math.Clamp(Math.Ceiling(targetBatchMs / Math.Max(single, 1e-3)), 1, 2000);
        var samples = new double[batches];
        for (int b = 0; b < batches; b++) samples[b] = Time(Run, perBatch) / perBatch;
        Array.Sort(samples);
        return samples[batches / 2];
    }

    private double Time(Action<int> run, int count)
    {
        _start.Record(_stream);
        run(count);
        _stop.Record(_stream);
        _stop.Synchronize();
        return CudaEvent.ElapsedMilliseconds(_start, _stop);
    }

    public void Dispose()
    {
        _start.Dispose();
        _stop.Dispose();
    }
}
