using MarlinSharp.Models.Engine;
using static MarlinSharp.Tests.Engine.EngineGpu;

namespace MarlinSharp.Tests.Engine;

/// <summary>The whole GPU forward pass of a tiny random model against the CPU double reference (GPU only).</summary>
public sealed class ModelGpuTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "marlinsharp-model-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static double MaxDiff(double[] expected, ReadOnlySpan<float> actual)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        return worst;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]  // Qwen2-style: attention biases, tied embeddings
    public void Fp16LogitsMatchCpuReferenceThroughPrefillAndBatchedDecode(bool qwen)
    {
        var rt = Runtime;
        TinyModel.Write(_dir, TinyModel.ConfigJson(hidden: 128, inter: 256, layers: 2, heads: 4, kvHeads: 2, vocab: 256,
            tie: qwen, modelType: qwen ? "qwen2" : "llama"), seed: 11);
        using var checkpoint = LlamaCheckpoint.Open(_dir);
        var reference = new ReferenceLlama(checkpoint);
        using var weights = LlamaWeights.Load(rt, checkpoint, LinearFormat.Fp16);
        using var model = new LlamaModel(rt, weights, slots: 3, maxContext: 128, maxBatchTokens: 64);
        int vocab = 256;
        var logits = new float[3 * vocab];

        var a = new List<int> { 1, 17, 42, 99, 3, 250, 7 };
        var b = new List<int> { 5 };
        var cseq = Enumerable.Range(0, 40).Select(i => (i * 37 + 11) % vocab).ToList();
        // Two prompts prefilled together, a third alone, into non-adjacent slots.
        model.Forward([new SequenceChunk(2, 0, a), new SequenceChunk(0, 0, b)]);
        model.ReadLogits(logits);
        double diffA = MaxDiff(reference.LastLogits(a), logits.AsSpan(0, vocab));
        Assert.True(diffA <= 2e-2, $"prefill a: max |logit diff| {diffA}");
        Assert.True(MaxDiff(reference.LastLogits(b), logits.AsSpan(vocab, vocab)) <= 2e-2, "prefill b");
        model.Prefill(1, cseq);
        model.ReadLogits(logits);
        Assert.True(MaxDiff(reference.LastLogits(cseq), logits.AsSpan(0, vocab)) <= 2e-2, "prefill c");

        var seqs = new[] { (Slot: 2, Tokens: a), (Slot: 0, Tokens: b), (Slot: 1, Tokens: cseq) };
        var greedy = new int[3];
        for (int step = 0; step < 6; step++)
        {
            var batch = seqs.Select((q, i) => new DecodeEntry(q.Slot, (step * 31 + i * 7) % vocab, q.Tokens.Count)).ToArray();
            for (int i = 0; i < seqs.Length; i++) seqs[i].Tokens.Add(batch[i].Token);
            model.DecodeStep(batch);
            model.ReadLogits(logits);
            model.ReadGreedy(greedy);
            for (int i = 0; i < seqs.Length; i++)
            {
                var expected = reference.LastLogits(seqs[i].Tokens);
                double diff = MaxDiff(expected, logits.AsSpan(i * vocab, vocab));
                Assert.True(diff <= 2e-2, $"decode step {step}, sequence {i}: max |diff| {diff}");
                Assert.Equal(Sampler.Argmax(logits.AsSpan(i * vocab, vocab)), greedy[i]);
            }
        }
    }

    [Fact]
    public void Int4LogitsStayCloseToFp16()
    {
        var rt = Runtime;
        TinyModel.Write(_dir, TinyModel.ConfigJson(hidden: 128, inter: 256), seed: 12);
        using var checkpoint = LlamaCheckpoint.Open(_dir);
        using var w16 = LlamaWeights.Load(rt, checkpoint, LinearFormat.Fp16);
        using var w4 = LlamaWeights.Load(rt, checkpoint, LinearFormat.Int4);
        Assert.True(w4.LinearWeightBytes < w16.LinearWeightBytes);
        using var m16 = new LlamaModel(rt, w16, 1, 64);
        using var m4 = new LlamaModel(rt, w4, 1, 64);
        var prompt = Enumerable.Range(0, 20).Select(i => (i * 13 + 5) % 256).ToArray();
        var l16 = new float[256];
        var l4 = new float[256];
        m16.Prefill(0, prompt);
        m16.ReadLogits(l16);
        m4.Prefill(0, prompt);
        m4.ReadLogits(l4);
        double num = 0, den = 0;
        for (int i = 0; i < 256; i++) { num += (l4[i] - l16[i]) * (l4[i] - l16[i]); den += l16[i] * l16[i]; }
        double rel = Math.Sqrt(num / den);
        Assert.True(rel < 0.3, $"INT4 vs FP16 relative logit error {rel}");
    }

    [Fact]
    public void FusedInt4DecodeLayersMatchTheUnfusedOnes()
    {
        var rt = Runtime;
        TinyModel.Write(_dir, TinyModel.ConfigJson(hidden: 256, inter: 512, layers: 3, heads: 4, kvHeads: 2, vocab: 512), seed: 13);
        using var checkpoint = LlamaCheckpoint.Open(_dir);
        using var w4 = LlamaWeights.Load(rt, checkpoint, LinearFormat.Int4);
        Assert.True(w4.FusedLayout, "INT4 weights of this shape should be in the fused layout.");
        using var fused = new LlamaModel(rt, w4, slots: 4, maxContext: 128, maxBatchTokens: 64);
        using var plain = new LlamaModel(rt, w4, slots: 4, maxContext: 128, maxBatchTokens: 64) { FuseDecodeLayers = false };
        if (rt.Device.ComputeCapabilityMajor < 9)
        {
            Assert.NotNull(fused.FusionUnavailableReason);
            Assert.Skip($"Fused decode layers need thread-block clusters: {fused.FusionUnavailableReason}");
        }
        Assert.Null(fused.FusionUnavailableReason);
        int vocab = 512;
        var rng = new Random(Random.Shared.Next());
        // Short prompts (fused GEMM epilogues up to MaxFusedRows tokens), long ones (unfused prefill in both), then batched
        // decode steps of 1..4 sequences through CUDA graphs: rope fused into attention in one model and not in the other,
        // GEMM epilogues fused where the step has at most MaxFusedRows rows.
        var prompts = new[] { 2, 30, 1, 12 }.Select(len => Enumerable.Range(0, len).Select(_ => rng.Next(vocab)).ToList()).ToArray();
        var lf = new float[4 * vocab];
        var lp = new float[4 * vocab];
        void Compare(string what, int sequences)
        {
            fused.ReadLogits(lf);
            plain.ReadLogits(lp);
            double worst = 0, scale = 0;
            for (int i = 0; i < sequences * vocab; i++)
            {
                worst = Math.Max(worst, Math.Abs(lf[i] - lp[i]));
                scale = Math.Max(scale, Math.Abs(lp[i]));
                Assert.True(float.IsFinite(lf[i]), $"{what}: logit {i} is {lf[i]}");
            }
            Assert.True(scale > 0.1, $"{what}: logits are suspiciously small ({scale})");
            Assert.True(worst <= 2e-2 * Math.Max(1, scale), $"{what}: max |fused - unfused| {worst} (logits up to {scale})");
        }
        for (int s = 0; s < prompts.Length; s++)
        {
            fused.Prefill(s, prompts[s]);
            plain.Prefill(s, prompts[s]);
            Compare($"prefill {s} ({prompts[s].Count} tokens)", 1);
        }
        for (int step = 0; step < 8; step++)
        {
            int count = 1 + step % 4;
            var batch = Enumerable.Range(0, count).Select(s => new DecodeEntry(s, rng.Next(vocab), prompts[s].Count)).ToArray();
            foreach (var e in batch) prompts[e.Slot].Add(e.Token);
            fused.DecodeStep(batch);
            plain.DecodeStep(batch);
            Compare($"decode step {step} ({count} sequences)", count);
        }
        Assert.True(fused.GraphReplays + fused.GraphCaptures > 0, "The fused decode steps should run through CUDA graphs.");
    }

    [Theory]
    [InlineData(LinearFormat.Fp16)]
    [InlineData(LinearFormat.Int4)]
    public void RandomWeightsRunTheSchedulerEndToEnd(LinearFormat format)
    {
        var rt = Runtime;
        var config = new Models.Configuration.LlamaConfig("llama", 256, 512, 2, 4, 2, 64, 1000, 1e-5, 10000.0, null, 256, false, false, [], [], null);
        using var weights = LlamaWeights.Random(rt, config, seed: 7, format);
        using var model = new LlamaModel(rt, weights, slots: 4, maxContext: 128, maxBatchTokens: 128);
        var scheduler = new BatchScheduler(model);
        var streamed = 0;
        for (int i = 0; i < 6; i++)
            scheduler.Submit(new GenerationRequest(Enumerable.Range(1, 5 + 9 * i).ToArray(), 10 + i,
                i % 2 == 0 ? null : new SamplingOptions(0.8, 40, 0.9, (ulong)i), OnToken: _ => streamed++));
        var results = scheduler.RunToCompletion();
        Assert.Equal(6, results.Count);
        Assert.All(results, r => Assert.InRange(r.Tokens.Count, 1, 15));
        Assert.Equal(results.Sum(r => r.Tokens.Count), streamed);
        Assert.All(results.SelectMany(r => r.Tokens), t => Assert.InRange(t, 0, 999));
    }

    private static Models.Configuration.LlamaConfig SmallConfig() =>
        new("llama", 256, 512, 2, 4, 2, 64, 1000, 1e-5, 10000.0, null, 256, false, false, [], [], null);

    private static List<GenerationResult> Generate(LlamaModel model, bool pipelined, int[]?[] stops, out int chainedSteps)
    {
        var scheduler = new BatchScheduler(model) { PipelineDecode = pipelined };
        for (int i = 0; i < stops.Length; i++)
            scheduler.Submit(new GenerationRequest(Enumerable.Range(3 + i, 4 + 7 * i).ToArray(), 6 + 3 * i, StopTokens: stops[i]));
        var results = scheduler.RunToCompletion().OrderBy(r => r.RequestId).ToList();
        chainedSteps = scheduler.ChainedSteps;
        return results;
    }

    [Theory]
    [InlineData(LinearFormat.Fp16)]
    [InlineData(LinearFormat.Int4)]
    public void EachFp16GemmOfADecodeStepHasATimedAlgorithm(LinearFormat format)
    {
        var rt = Runtime;
        using var weights = LlamaWeights.Random(rt, SmallConfig(), seed: 5, format);
        using var model = new LlamaModel(rt, weights, slots: 3, maxContext: 96, maxBatchTokens: 128);
        if (model.Fp16GemmTuningSkipped is { } why) Assert.Skip($"The FP16 GEMMs were not tuned: {why}");
        // FP16 models tune all four projections and the LM head; INT4 models only their FP16 LM head.
        string[] sites = format == LinearFormat.Fp16 ? ["qkv", "o", "gate|up", "down", "lm_head"] : ["lm_head"];
        var rows = DecodeBuckets.All(model.DecodeBucketLimit);
        Assert.Equal(sites.Length * rows.Count, model.Fp16GemmChoices.Count);
        foreach (string site in sites)
            foreach (int r in rows)
            {
                var c = Assert.Single(model.Fp16GemmChoices, x => x.Site == site && x.Rows == r);
                Assert.InRange(c.Candidate, -1, MarlinSharp.Cuda.CublasLtLinearPlan.MaxCandidates - 1);
                Assert.True(c.GemmExMicroseconds > 0 && c.Microseconds > 0, $"{site} at {r} rows: {c}");
                // The choice is never slower than cublasGemmEx in the tuner's own timing, and is cublasGemmEx's when equal.
                Assert.True(c.Microseconds <= c.GemmExMicroseconds, $"{site} at {r} rows: {c}");
                if (c.Candidate < 0) Assert.Equal(c.GemmExMicroseconds, c.Microseconds);
                else Assert.InRange(c.SplitK, 1, 64);
            }
    }

    [Theory]
    [InlineData(LinearFormat.Fp16)]
    [InlineData(LinearFormat.Int4)]
    public void PipelinedGreedyDecodingGivesTheStepByStepTokens(LinearFormat format)
    {
        var rt = Runtime;
        using var weights = LlamaWeights.Random(rt, SmallConfig(), seed: 11, format);
        using var model = new LlamaModel(rt, weights, slots: 3, maxContext: 96, maxBatchTokens: 128);
        // Five requests over three slots (sequences leave and join) with token limits only: every step has the same
        // rows both ways, so the tokens must be identical.
        var none = new int[]?[5];
        var plain = Generate(model, pipelined: false, none, out int plainChained);
        var piped = Generate(model, pipelined: true, none, out int chained);
        Assert.Equal(0, plainChained);
        Assert.True(chained >= 10, $"only {chained} chained steps");
        for (int i = 0; i < plain.Count; i++)
        {
            Assert.Equal(FinishReason.MaxTokens, piped[i].Finish);
            Assert.Equal(plain[i].Tokens, piped[i].Tokens);
        }
        Assert.True(plain.SelectMany(r => r.Tokens).Distinct().Count() > 5, "the model repeats one token: the comparison says little");

        // A stop token that is not known ahead: request 3 stops at its third token while the next step is queued.
        var stops = new int[]?[5];
        stops[3] = [plain[3].Tokens[2]];
        var stopped = Generate(model, pipelined: true, stops, out _);
        int at = plain[3].Tokens.ToList().IndexOf(plain[3].Tokens[2]);
        Assert.Equal(FinishReason.StopToken, stopped[3].Finish);
        Assert.Equal(plain[3].Tokens.Take(at + 1), stopped[3].Tokens);
        for (int i = 0; i < plain.Count; i++)
            if (i != 3) Assert.Equal(plain[i].Tokens, stopped[i].Tokens);
    }

    [Fact]
    public void ChainedDecodeStepsMatchHostFedStepsBitForBit()
    {
        var rt = Runtime;
        using var weights = LlamaWeights.Random(rt, SmallConfig(), seed: 5, LinearFormat.Int4);
        using var model = new LlamaModel(rt, weights, slots: 4, maxContext: 64, maxBatchTokens: 64);
        var rng = new Random(3);
        var prompts = Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, 5 + 3 * i).Select(_ => rng.Next(1000)).ToArray()).ToArray();
        for (int s = 0; s < 3; s++) model.Prefill(s, prompts[s]);

        var first = new DecodeEntry[] { new(0, 17, prompts[0].Length), new(1, 400, prompts[1].Length), new(2, 999, prompts[2].Length) };
        model.DecodeStep(first);
        model.QueueGreedy();
        // Rows in another order than the step before, one sequence left out.
        var chained = new ChainedDecodeEntry[] { new(2, prompts[2].Length + 1, 2), new(0, prompts[0].Length + 1, 0) };
        model.ForwardChained(chained);
        model.QueueGreedy();
        var firstTokens = new int[3];
        var chainedTokens = new int[2];
        model.ReadQueuedGreedy(firstTokens);
        model.ReadQueuedGreedy(chainedTokens);
        var chainedLogits = new float[2 * 1000];
        model.ReadLogits(chainedLogits);

        // The same step with its tokens from the host (it rewrites the same cache positions with the same values).
        model.DecodeStep([new DecodeEntry(2, firstTokens[2], prompts[2].Length + 1), new DecodeEntry(0, firstTokens[0], prompts[0].Length + 1)]);
        var hostLogits = new float[2 * 1000];
        model.ReadLogits(hostLogits);
        Assert.Equal(hostLogits, chainedLogits);
        var greedy = new int[2];
        model.ReadGreedy(greedy);
        Assert.Equal(greedy, chainedTokens);
        Assert.True(hostLogits.Max() - hostLogits.Min() > 0.1, "degenerate logits");
    }

    [Fact]
    public void PipelinedModelCallsOutOfOrderAreRefused()
    {
        var rt = Runtime;
        using var weights = LlamaWeights.Random(rt, SmallConfig(), seed: 5, LinearFormat.Fp16);
        using var model = new LlamaModel(rt, weights, slots: 2, maxContext: 32, maxBatchTokens: 32);
        Assert.Throws<InvalidOperationException>(model.QueueGreedy);                       // no step yet
        Assert.Throws<InvalidOperationException>(() => model.ReadQueuedGreedy(new int[2])); // nothing queued
        Assert.Contains("No forward step", Assert.Throws<InvalidOperationException>(() => model.ForwardChained([new(0, 0, 0)])).Message);
        Assert.Throws<InvalidOperationException>(() => model.ReadGreedy(new int[2]));
        model.Prefill(0, [1, 2, 3]);
        model.QueueGreedy();
        Assert.Contains("already queued", Assert.Throws<InvalidOperationException>(model.QueueGreedy).Message);
        Assert.Contains("previous row", Assert.Throws<ArgumentException>(() => model.ForwardChained([new(0, 3, 1)])).Message);
        Assert.Contains("context", Assert.Throws<ArgumentException>(() => model.ForwardChained([new(0, 32, 0)])).Message);
        model.ForwardChained([new(0, 3, 0)]);
        model.QueueGreedy();
        model.ForwardChained([new(0, 4, 0)]);     // two readbacks unread: a third step may run, not be queued
        Assert.Contains("unread", Assert.Throws<InvalidOperationException>(model.QueueGreedy).Message);
        Assert.Contains("overwrite", Assert.Throws<InvalidOperationException>(() => model.ForwardChained([new(0, 5, 0)])).Message);
        Assert.Contains("needed", Assert.Throws<ArgumentException>(() => model.ReadQueuedGreedy([])).Message);
        var a = new int[1];
        var b = new int[1];
        model.ReadQueuedGreedy(a);
        model.ReadQueuedGreedy(b);
        Assert.InRange(a[0], 0, 999);
        Assert.InRange(b[0], 0, 999);
    }
}
