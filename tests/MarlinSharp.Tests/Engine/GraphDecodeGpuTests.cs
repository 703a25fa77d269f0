using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;
using static MarlinSharp.Tests.Engine.EngineGpu;

namespace MarlinSharp.Tests.Engine;

/// <summary>Decode steps replayed from CUDA graphs against the same steps run uncaptured (GPU only).</summary>
public sealed class GraphDecodeGpuTests
{
    private const int Vocab = 1000, Slots = 8;

    private static LlamaConfig Config() =>
        new("llama", 256, 512, 2, 4, 2, 64, Vocab, 1e-5, 10000.0, null, 512, false, false, [], [], null);

    private static int[] Prompt(int seed, int length) => Enumerable.Range(0, length).Select(i => (i * 37 + seed * 101 + 3) % Vocab).ToArray();

    /// <summary>
    /// Batch sizes per step (1..8, most not a bucket size); sequences join (prefilled into a free slot) and leave as the
    /// active set changes. Each model decodes its own greedy tokens; returns the logits and tokens of every step.
    /// </summary>
    private static List<(float[] Logits, int[] Tokens)> Run(LlamaModel model)
    {
        int[] sizes = [1, 3, 3, 4, 5, 2, 7, 8, 6, 3, 1, 5];
        var next = new int[Slots];
        var position = new int[Slots];
        var active = new List<int>();
        var steps = new List<(float[], int[])>();
        var logits = new float[Slots * Vocab];
        var greedy = new int[Slots];
        for (int step = 0; step < sizes.Length; step++)
        {
            while (active.Count > sizes[step]) active.RemoveAt(step % active.Count);   // leave
            while (active.Count < sizes[step])                                          // join
            {
                int slot = Enumerable.Range(0, Slots).First(s => !active.Contains(s));
                var prompt = Prompt(step * Slots + slot, 3 + (step + slot) % 9);
                model.Prefill(slot, prompt);
                model.ReadGreedy(greedy.AsSpan(0, 1));
                next[slot] = greedy[0];
                position[slot] = prompt.Length;
                active.Add(slot);
            }
            for (int rep = 0; rep < 2; rep++)
            {
                var batch = active.Select(s => new DecodeEntry(s, next[s], position[s])).ToArray();
                model.DecodeStep(batch);
                int n = batch.Length;
                model.ReadLogits(logits.AsSpan(0, n * Vocab));
                model.ReadGreedy(greedy.AsSpan(0, n));
                steps.Add((logits[..(n * Vocab)], greedy[..n]));
                for (int i = 0; i < n; i++)
                {
                    next[batch[i].Slot] = greedy[i];
                    position[batch[i].Slot]++;
                }
            }
        }
        return steps;
    }

    [Theory]
    [InlineData(LinearFormat.Fp16)]
    [InlineData(LinearFormat.Int4)]
    public void CapturedDecodeIsBitwiseTheSameAsThePaddedStepRunUncaptured(LinearFormat format)
    {
        var rt = Runtime;
        using var weights = LlamaWeights.Random(rt, Config(), seed: 5, format);
        using var graphs = new LlamaModel(rt, weights, Slots, maxContext: 256, maxBatchTokens: 64) { UseCudaGraphs = true };
        using var eager = new LlamaModel(rt, weights, Slots, maxContext: 256, maxBatchTokens: 64) { UseCudaGraphs = true, CaptureDecodeGraphs = false };
        var a = Run(graphs);
        var b = Run(eager);
        Assert.True(graphs.GraphsDisabledReason is null, graphs.GraphsDisabledReason);
        Assert.True(graphs.GraphReplays > 0, "no step was replayed from a graph");
        Assert.Equal(0, eager.GraphCaptures);
        Assert.Equal(b.Count, a.Count);
        for (int s = 0; s < a.Count; s++)
        {
            Assert.Equal(b[s].Tokens, a[s].Tokens);
            for (int i = 0; i < a[s].Logits.Length; i++)
                if (BitConverter.SingleToInt32Bits(a[s].Logits[i]) != BitConverter.SingleToInt32Bits(b[s].Logits[i]))
                    Assert.Fail($"step {s}, logit {i}: graph {a[s].Logits[i]}, uncaptured {b[s].Logits[i]}");
        }
    }

    [Theory]
    [InlineData(LinearFormat.Fp16)]
    [InlineData(LinearFormat.Int4)]
    public void GraphDecodeMatchesTheUnpaddedPathWithGraphsOff(LinearFormat format)
    {
        var rt = Runtime;
        using var weights = LlamaWeights.Random(rt, Config(), seed: 6, format);
        using var graphs = new LlamaModel(rt, weights, Slots, maxContext: 256, maxBatchTokens: 64) { UseCudaGraphs = true };
        using var plain = new LlamaModel(rt, weights, Slots, maxContext: 256, maxBatchTokens: 64) { UseCudaGraphs = false };
        var a = Run(graphs);
        var b = Run(plain);
        Assert.Equal(0, plain.GraphCaptures);
        Assert.True(graphs.GraphReplays > 0);
        // Padding can change the GEMM configuration (and so the summation order) of the real rows: FP16 rounding only.
        double worst = 0;
        for (int s = 0; s < a.Count; s++)
        {
            Assert.Equal(b[s].Tokens, a[s].Tokens);
            for (int i = 0; i < a[s].Logits.Length; i++) worst = Math.Max(worst, Math.Abs(a[s].Logits[i] - b[s].Logits[i]));
        }
        Assert.True(worst <= 1e-2, $"max |logit diff| {worst}");
    }

    [Fact]
    public void GraphsAreReusedPerBucketAndCapturedAgainWhenTheShapeChanges()
    {
        var rt = Runtime;
        using var weights = LlamaWeights.Random(rt, Config(), seed: 7, LinearFormat.Fp16);
        using var model = new LlamaModel(rt, weights, Slots, maxContext: 512, maxBatchTokens: 256);
        for (int s = 0; s < Slots; s++) model.Prefill(s, Prompt(s, 4));
        void Step(int n, int position) => model.DecodeStep(Enumerable.Range(0, n).Select(s => new DecodeEntry(s, 9, position)).ToArray());

        Step(3, 4);                                 // bucket 4: run and capture
        Assert.Equal((1, 0), (model.GraphCaptures, model.GraphReplays));
        Step(3, 5);                                 // same bucket, same split plan: replay
        Step(4, 6);
        Assert.Equal((1, 2), (model.GraphCaptures, model.GraphReplays));
        Step(5, 7);                                 // bucket 8: a second graph
        Assert.Equal((2, 2), (model.GraphCaptures, model.GraphReplays));
        Step(1, 8);                                 // bucket 1
        Step(2, 9);                                 // bucket 2
        Assert.Equal((4, 2), (model.GraphCaptures, model.GraphReplays));
        Step(7, 10);
        Step(3, 11);
        Assert.Equal((4, 4), (model.GraphCaptures, model.GraphReplays));
        Assert.Equal(4, model.GraphCount);

        // A context beyond one attention tile changes the split plan of the decode kernel: a new graph.
        model.Prefill(0, Prompt(99, 200));
        model.DecodeStep([new DecodeEntry(0, 9, 200)]);
        Assert.Equal(5, model.GraphCaptures);
        model.DecodeStep([new DecodeEntry(0, 9, 201)]);
        Assert.Equal(5, model.GraphReplays);

        model.UseCudaGraphs = false;
        Assert.Equal(0, model.GraphCount);
        Step(3, 12);
        Assert.Equal((5, 5), (model.GraphCaptures, model.GraphReplays));
        Assert.True(model.GraphsDisabledReason is null, model.GraphsDisabledReason);
    }
}
