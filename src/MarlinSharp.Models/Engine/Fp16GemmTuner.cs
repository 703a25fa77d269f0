using System.Diagnostics;
using MarlinSharp.Cuda;
using MarlinSharp.Layers;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// Picks, for each FP16 GEMM that a decode step runs (shape, rows, and whether it adds into its output), the cuBLAS
/// algorithm that is fastest inside the step rather than alone. cublasGemmEx runs cuBLASLt's first guess, which for the
/// narrow layers at a few rows is a split-K algorithm with a second, reducing kernel: one more kernel boundary in the
/// step's chain, which timing the GEMM by itself does not show (docs/NOTES.md, step 121). For every candidate the tuner
/// captures a graph of pairs "small kernel, GEMM" over the model's own weights of that shape (so consecutive GEMMs stream
/// different weights, as in a step), times it with events, and routes the layers through the fastest (cublasGemmEx stays
/// where it wins). The FP16 baseline is only ever made faster by this, never slower.
/// </summary>
internal sealed class Fp16GemmTuner : IDisposable
{
    /// <summary>A GEMM call site of the decode step: the layers of one shape and whether they add into their output.</summary>
    public sealed record Site(string Name, IReadOnlyList<CublasLinear> Layers, bool Accumulate);

    /// <summary>One tuned choice, for reports: the candidate (-1: cublasGemmEx) and the µs per "kernel, GEMM" pair.</summary>
    public sealed record Choice(string Site, int Rows, int Candidate, int SplitK, double Microseconds, double GemmExMicroseconds);

    private const int Pairs = 8, Repeats = 4;
    private readonly List<CublasLtLinearPlan> _plans = [];
    private readonly List<Choice> _choices = [];

    public IReadOnlyList<Choice> Choices => _choices;

    /// <summary>Tunes every site for every row count; the layers keep using the plans this object owns until it is disposed.</summary>
    public static Fp16GemmTuner Tune(MarlinRuntime runtime, LlamaKernels kernels, CudaStream stream, IReadOnlyList<Site> sites, IReadOnlyList<int> rowCounts)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sites);
        ArgumentNullException.ThrowIfNull(rowCounts);
        var tuner = new Fp16GemmTuner();
        try
        {
            if (sites.Count == 0 || rowCounts.Count == 0) return tuner;
            var ctx = runtime.Context;
            int rowsMax = rowCounts.Max();
            long inMax = sites.Max(s => (long)s.Layers[0].InFeatures), outMax = sites.Max(s => (long)s.Layers[0].OutFeatures);
            using var x = ctx.Upload<Half>(RandomInputs(rowsMax * inMax));
            using var y = ctx.Allocate<Half>(rowsMax * outMax);
            y.Fill32(0, stream);
            using var start = ctx.CreateEvent();
            using var end = ctx.CreateEvent();
            foreach (var site in sites)
                foreach (int rows in rowCounts)
                    tuner.TuneOne(runtime, kernels, stream, site, rows, x, y, start, end);
            return tuner;
        }
        catch
        {
            tuner.Dispose();
            throw;
        }
    }

    private void TuneOne(MarlinRuntime runtime, LlamaKernels kernels, CudaStream stream, Site site, int rows,
        DeviceBuffer<Half> x, DeviceBuffer<Half> y, CudaEvent start, CudaEvent end)
    {
        var layers = site.Layers;
        int n = layers[0].OutFeatures, k = layers[0].InFeatures;
        var plan = new CublasLtLinearPlan(runtime.Context, rows, n, k, MarlinRuntime.CublasWorkspaceBytes);
        _plans.Add(plan);
        var input = x.AsSpan().Slice(0, (long)rows * k);
        var output = y.AsSpan().Slice(0, (long)rows * n);
        double Time(int candidate)
        {
            void Run()
            {
                for (int p = 0; p < Pairs; p++)
                {
                    kernels.Hold(0, stream);
                    var layer = layers[p % layers.Count];
                    if (candidate < 0) layer.Forward(input, output, rows, stream, site.Accumulate);
                    else layer.Forward(input, output, stream, site.Accumulate, plan, candidate);
                }
            }
            Run();  // uncaptured first: whatever cuBLAS creates on first use (workspace, kernels) must not happen in a capture
            using var graph = stream.Capture(Run);
            graph.Launch(stream);  // warm
            start.Record(stream);
            for (int r = 0; r < Repeats; r++) graph.Launch(stream);
            end.Record(stream);
            end.Synchronize();
            return CudaEvent.ElapsedMilliseconds(start, end) * 1000 / (Repeats * Pairs);
        }
        double gemmEx;
        try
        {
            gemmEx = Time(-1);
        }
        catch (CudaException)
        {
            // Seen once (session 17, the whole GPU suite, test classes in parallel on one context): cublasGemmEx failed
            // inside the capture right after the same calls had run uncaptured. Once more; a second failure propagates
            // and the model keeps cublasGemmEx's own choices (LlamaModel.Fp16GemmTuningSkipped says why).
            stream.Synchronize();
            gemmEx = Time(-1);
        }
        double best = gemmEx;
        int chosen = -1;
        for (int c = 0; c < plan.CandidateCount; c++)
        {
            if (plan.WorkspaceBytes(c) > MarlinRuntime.CublasWorkspaceBytes) continue;
            double t;
            try
            {
                t = Time(c);
            }
            catch (CudaException)
            {
                // A candidate that cannot run here, or not inside a graph (seen at some small shapes): not a choice. The
                // capture has been ended by then; the stream must still work, which the next candidate's run checks.
                stream.Synchronize();
                continue;
            }
            if (t < best)
            {
                best = t;
                chosen = c;
            }
        }
        if (chosen >= 0)
            foreach (var layer in layers)
            {
                layer.UseAlgorithm(plan, chosen, site.Accumulate);
                _routed.Add((layer, plan, site.Accumulate));
            }
        _choices.Add(new Choice(site.Name, rows, chosen, chosen >= 0 ? plan.Describe(chosen).SplitK : 0, best, gemmEx));
    }

    private static Half[] RandomInputs(long count)
    {
        var rng = new Random(20261121);
        var values = new Half[count];
        for (long i = 0; i < count; i++) values[i] = (Half)((rng.NextDouble() - 0.5) * 0.05);
        return values;
    }

    private readonly List<(CublasLinear Layer, CublasLtLinearPlan Plan, bool Accumulate)> _routed = [];

    /// <summary>Returns the layers to cublasGemmEx (they may outlive this model) and frees the plans.</summary>
    public void Dispose()
    {
        foreach (var (layer, plan, accumulate) in _routed) layer.UseAlgorithm(plan, -1, accumulate);
        _routed.Clear();
        foreach (var plan in _plans) plan.Dispose();
        _plans.Clear();
    }
}
