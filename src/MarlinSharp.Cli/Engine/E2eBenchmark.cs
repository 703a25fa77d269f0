using System.Diagnostics;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Cli.Engine;

/// <summary>
/// One batch size on one format: prefill time, then the mean wall time of a decode step (one token per sequence); with
/// --profile also the GPU time per operation of one decode step run without CUDA graphs.
/// </summary>
internal sealed record E2ePoint(LinearFormat Format, int Batch, double PrefillMs, double MsPerToken, int DecodeSteps, StepProfile? Profile = null,
    double? BackToBackMs = null, ChainedTiming? Chained = null, double? ChainedBackToBackMs = null)
{
    /// <summary>Generated tokens per second over the decode steps (all sequences together).</summary>
    public double TokensPerSecond => Batch * 1000.0 / MsPerToken;
}

/// <summary>Pipelined decode steps: wall time per step, and the host's time per step queueing the next one and waiting for the last.</summary>
internal sealed record ChainedTiming(double MsPerStep, double QueueMs, double WaitMs);

/// <summary>
/// End-to-end generation timing through the engine's scheduler: B prompts of random tokens, greedy, exactly N new
/// tokens each (no stop tokens). The first token comes from the prefill step(s), timed apart; the other N−1 are decode
/// steps, each timed with a stopwatch around a step that ends synchronised (the scheduler reads the sampled tokens
/// back), so the figure includes every host-side cost a server would pay.
/// </summary>
internal static class E2eBenchmark
{
    /// <summary>GPU memory kept free for cuBLAS workspaces, kernel modules and the allocator.</summary>
    public const long ReserveBytes = 768L << 20;

    /// <summary>Most tokens one forward step handles (longer prefills are split by the scheduler).</summary>
    public static int MaxBatchTokens(int maxBatch, int input) => (int)Math.Min((long)maxBatch * input, 4096);

    /// <summary>GPU bytes weights plus model need for this run.</summary>
    public static long RequiredBytes(LlamaConfig config, LinearFormat format, int maxBatch, int input, int output) =>
        LlamaWeights.EstimateDeviceBytes(config, format)
        + LlamaModel.EstimateDeviceBytes(config, maxBatch, input + output, MaxBatchTokens(maxBatch, input))
        + ReserveBytes;

    /// <summary>Throws a message with the sizes and a --layers suggestion when the run will not fit in <paramref name="freeBytes"/>.</summary>
    public static void CheckFits(string name, LlamaConfig config, LinearFormat format, int maxBatch, int input, int output, long freeBytes, bool layersAdjustable)
    {
        long need = RequiredBytes(config, format, maxBatch, input, output);
        if (need <= freeBytes) return;
        string advice = "use a smaller --batch list";
        if (layersAdjustable)
        {
            long perLayer = RequiredBytes(config with { NumHiddenLayers = 2 }, format, maxBatch, input, output)
                - RequiredBytes(config with { NumHiddenLayers = 1 }, format, maxBatch, input, output);
            long fixedBytes = need - perLayer * config.NumHiddenLayers;
            long fit = (freeBytes - fixedBytes) / perLayer;
            advice = fit >= 1 ? $"use --layers {Math.Min(fit, config.NumHiddenLayers - 1)} or fewer, or a smaller --batch list" : advice;
        }
        throw new InvalidOperationException(
            $"{name} in {Name(format)} with {config.NumHiddenLayers} layers needs about {need / 1e9:F1} GB of GPU memory " +
            $"(weights {LlamaWeights.EstimateDeviceBytes(config, format) / 1e9:F1} GB, KV cache and activations for batch {maxBatch} the rest); " +
            $"{freeBytes / 1e9:F1} GB are free: {advice}.");
    }

    public static string Name(LinearFormat format) => format == LinearFormat.Int4 ? "INT4" : "FP16";

    /// <summary>
    /// Times every batch size on one set of weights (one model sized for the largest batch, reused); with
    /// <paramref name="profile"/>, profiles one decode step per batch size after its timed run.
    /// </summary>
    public static List<E2ePoint> Run(MarlinRuntime runtime, LlamaWeights weights, IReadOnlyList<int> batches, int input, int output, ulong seed,
        Action<E2ePoint> onPoint, IProgress<string> progress, bool profile = false, KernelTimeline? timeline = null)
    {
        int maxBatch = batches.Max();
        progress.Report($"{Name(weights.Format)}: building the model (the FP16 GEMMs' cuBLAS algorithms are timed inside a decode step's chain)");
        using var model = new LlamaModel(runtime, weights, slots: maxBatch, maxContext: input + output, maxBatchTokens: MaxBatchTokens(maxBatch, input));
        if (model.Fp16GemmTuningSkipped is { } skipped) progress.Report($"{Name(weights.Format)}: cuBLAS algorithms not tuned ({skipped})");
        if (profile)
            foreach (var c in model.Fp16GemmChoices.Where(c => batches.Contains(c.Rows)))
                progress.Report($"{Name(weights.Format)} {c.Site} at {c.Rows} rows: " + (c.Candidate < 0
                    ? $"cublasGemmEx's choice, {c.GemmExMicroseconds:F1} us per kernel-and-GEMM pair"
                    : $"cuBLASLt candidate {c.Candidate} (split-K {c.SplitK}), {c.Microseconds:F1} us against cublasGemmEx's {c.GemmExMicroseconds:F1}"));
        var points = new List<E2ePoint>();
        foreach (int batch in batches)
        {
            // Warm-up with the same shapes: kernel selection and compilation, cuBLAS heuristics, clocks.
            progress.Report($"{Name(weights.Format)} batch {batch}: warm-up");
            RunOnce(model, batch, input, Math.Min(output, 3), seed);
            progress.Report($"{Name(weights.Format)} batch {batch}: {output} tokens");
            var point = RunOnce(model, batch, input, output, seed + (ulong)batch);
            if (profile)
            {
                progress.Report($"{Name(weights.Format)} batch {batch}: profiling one decode step without CUDA graphs");
                var entries = PrefillForProfile(model, batch, input, seed + (ulong)batch);
                point = point with
                {
                    Profile = model.ProfileDecodeStep(entries), BackToBackMs = BackToBack(model, entries), Chained = Chained(model, entries),
                    ChainedBackToBackMs = ChainedBackToBack(model, entries),
                };
                foreach (string line in model.DescribeDecodeKernels(batch)) progress.Report($"{Name(weights.Format)} batch {batch} kernels: {line}");
                if (timeline is not null)
                {
                    var tokens = new int[entries.Length];
                    model.DecodeStep(entries);
                    model.ReadGreedy(tokens);
                    timeline.Reset();
                    model.DecodeStep(entries);
                    model.ReadGreedy(tokens);
                    progress.Report($"{Name(weights.Format)} batch {batch}: kernel timeline of one decode step in {timeline.Write($"timeline-{Name(weights.Format).ToLowerInvariant()}-b{batch}")}");
                }
            }
            points.Add(point);
            onPoint(point);
        }
        return points;
    }


    /// <summary>
    /// Mean wall time of a decode step queued back to back with the previous one, tokens never read back: the GPU's own
    /// time per step (graph replays when graphs are on). Against the measured time per token, the difference is what the
    /// host costs per step (reading the tokens back, scheduling, uploading the next step). Rewrites the same cache entries.
    /// </summary>
    public static double BackToBack(LlamaModel model, IReadOnlyList<DecodeEntry> entries, int steps = 50) =>
        TimeQueuedSteps(model, entries, () => model.DecodeStep(entries), steps);

    /// <summary>
    /// Mean wall time of chained steps (input tokens taken on the GPU from the step before) queued back to back, tokens
    /// never read back. Against <see cref="BackToBack"/>: what chaining costs on the GPU; against <see cref="Chained"/>:
    /// what queueing the tokens' readback and waiting for it cost.
    /// </summary>
    public static double ChainedBackToBack(LlamaModel model, IReadOnlyList<DecodeEntry> entries, int steps = 50)
    {
        var chained = ChainedEntries(entries);
        return TimeQueuedSteps(model, entries, () => model.ForwardChained(chained), steps);
    }

    /// <summary>Warms up with host-fed steps (graph capture), then times <paramref name="steps"/> calls of <paramref name="step"/>
    /// queued back to back and one final readback: mean wall time per step.</summary>
    private static double TimeQueuedSteps(LlamaModel model, IReadOnlyList<DecodeEntry> entries, Action step, int steps)
    {
        var tokens = new int[entries.Count];
        for (int i = 0; i < 3; i++) model.DecodeStep(entries);
        model.ReadGreedy(tokens);
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++) step();
        model.ReadGreedy(tokens);
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds / steps;
    }

    /// <summary>The entries as chained steps: entry i takes its input token from row i of the step before.</summary>
    private static ChainedDecodeEntry[] ChainedEntries(IReadOnlyList<DecodeEntry> entries) =>
        entries.Select((e, row) => new ChainedDecodeEntry(e.Slot, e.Position, row)).ToArray();

    /// <summary>
    /// Pipelined steps as the scheduler runs them (queue the next chained step, then read the one in flight), at a fixed
    /// position: mean wall time per step, and the host time spent queueing and waiting. The clock starts with the GPU
    /// idle, before the host-fed step that the chain starts from, and that step counts: steps + 1 steps are timed.
    /// </summary>
    public static ChainedTiming Chained(LlamaModel model, IReadOnlyList<DecodeEntry> entries, int steps = 50)
    {
        var tokens = new int[entries.Count];
        var chained = ChainedEntries(entries);
        model.DecodeStep(entries);
        model.ReadGreedy(tokens);
        double queueMs = 0, waitMs = 0;
        long t0 = Stopwatch.GetTimestamp();
        model.DecodeStep(entries);
        model.QueueGreedy();
        for (int i = 0; i < steps; i++)
        {
            long a = Stopwatch.GetTimestamp();
            model.ForwardChained(chained);
            model.QueueGreedy();
            long b = Stopwatch.GetTimestamp();
            model.ReadQueuedGreedy(tokens);
            queueMs += Stopwatch.GetElapsedTime(a, b).TotalMilliseconds;
            waitMs += Stopwatch.GetElapsedTime(b).TotalMilliseconds;
        }
        model.ReadQueuedGreedy(tokens);
        return new ChainedTiming(Stopwatch.GetElapsedTime(t0).TotalMilliseconds / (steps + 1), queueMs / steps, waitMs / steps);
    }

    /// <summary>
    /// Prefills <paramref name="batch"/> sequences of <paramref name="input"/> random tokens into slots 0..batch−1 (one
    /// sequence per step, in pieces of at most MaxBatchTokens); returns the decode entries at position
    /// <paramref name="input"/> of all of them.
    /// </summary>
    private static DecodeEntry[] PrefillForProfile(LlamaModel model, int batch, int input, ulong seed)
    {
        var random = new Random(unchecked((int)seed));
        for (int slot = 0; slot < batch; slot++)
        {
            var prompt = new int[input];
            for (int i = 0; i < input; i++) prompt[i] = random.Next(model.VocabSize);
            for (int start = 0; start < input; start += model.MaxBatchTokens)
                model.Prefill(slot, prompt[start..Math.Min(input, start + model.MaxBatchTokens)], start);
        }
        var entries = new DecodeEntry[batch];
        for (int slot = 0; slot < batch; slot++) entries[slot] = new DecodeEntry(slot, random.Next(model.VocabSize), input);
        return entries;
    }

    private static E2ePoint RunOnce(LlamaModel model, int batch, int input, int output, ulong seed)
    {
        var random = new Random(unchecked((int)seed));
        var scheduler = new BatchScheduler(model);
        int started = 0, tokens = 0;
        for (int b = 0; b < batch; b++)
        {
            var prompt = new int[input];
            for (int i = 0; i < input; i++) prompt[i] = random.Next(model.VocabSize);
            scheduler.Submit(new GenerationRequest(prompt, output, SamplingOptions.Greedy, StopTokens: null, OnToken: e =>
            {
                tokens++;
                if (e.Index == 0) started++;
            }));
        }

        double prefillMs = 0, decodeMs = 0;
        int decodeSteps = 0;
        while (true)
        {
            bool decoding = started == batch;           // every sequence has its first token: this step is a decode step
            long t0 = Stopwatch.GetTimestamp();
            if (!scheduler.Step()) break;
            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (decoding) { decodeMs += ms; decodeSteps++; }
            else prefillMs += ms;
        }
        if (tokens != batch * output)
            throw new InvalidOperationException($"The scheduler produced {tokens} tokens; {batch} × {output} were expected.");
        return new E2ePoint(model.Weights.Format, batch, prefillMs, decodeSteps > 0 ? decodeMs / decodeSteps : double.NaN, decodeSteps);
    }
}
