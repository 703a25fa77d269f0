using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;
using static MarlinSharp.Tests.Engine.EngineGpu;

namespace MarlinSharp.Tests.Engine;

/// <summary>Per-operation profiles of a decode step (GPU only).</summary>
public sealed class StepProfileGpuTests
{
    private const int Vocab = 1000, Slots = 4, Layers = 2;

    private static LlamaConfig Config() =>
        new("llama", 256, 512, Layers, 4, 2, 64, Vocab, 1e-5, 10000.0, null, 512, false, false, [], [], null);

    private static int[] Prompt(int seed, int length) => Enumerable.Range(0, length).Select(i => (i * 37 + seed * 101 + 3) % Vocab).ToArray();

    [Theory]
    [InlineData(LinearFormat.Fp16)]
    [InlineData(LinearFormat.Int4)]
    public void ProfileCoversEveryOpOfTheStepAndLeavesGraphsAlone(LinearFormat format)
    {
        var rt = Runtime;
        using var weights = LlamaWeights.Random(rt, Config(), seed: 8, format);
        using var model = new LlamaModel(rt, weights, Slots, maxContext: 128, maxBatchTokens: 64) { UseCudaGraphs = true };
        using var plain = new LlamaModel(rt, weights, Slots, maxContext: 128, maxBatchTokens: 64) { UseCudaGraphs = false };
        const int batch = 3;                        // not a bucket size: a padded step would show
        for (int s = 0; s < batch; s++)
        {
            model.Prefill(s, Prompt(s, 10));
            plain.Prefill(s, Prompt(s, 10));
        }
        var entries = Enumerable.Range(0, batch).Select(s => new DecodeEntry(s, 5 + s, 10)).ToArray();
        model.DecodeStep(entries);                  // captures a graph
        int captures = model.GraphCaptures, replays = model.GraphReplays;

        var p = model.ProfileDecodeStep(entries);

        Assert.Equal((captures, replays), (model.GraphCaptures, model.GraphReplays));
        Assert.True(model.GraphsDisabledReason is null, model.GraphsDisabledReason);
        var labels = p.Entries.Select(e => e.Label).ToList();
        Assert.Equal(labels.Distinct().Count(), labels.Count);
        // INT4 steps of a few rows run fused on Hopper: the norms and SwiGLU live in the GEMM epilogues, and only the
        // row sums of the embedding and the final norm remain as norm launches.
        bool fused = format == LinearFormat.Int4 && model.FusionUnavailableReason is null && batch <= MarlinSharp.Kernels.MarlinKernelSelector.MaxFusedRows;
        // FP16 weights with the norms folded into the projections: no norm launch but the final one. Decode steps of
        // both formats run rotary embedding and the cache append inside attention (folded FP16: the QKV row's 1/rms too).
        bool folded = format == LinearFormat.Fp16 && weights.NormsFolded;
        Assert.Equal(format == LinearFormat.Fp16, folded);
        string[] expected = fused
            ? [StepOps.Embed, StepOps.Norm, StepOps.QkvGemm, StepOps.Attention, StepOps.OGemm, StepOps.GateUpGemm,
               StepOps.DownGemm, StepOps.LmHead, StepOps.Logits]
            : folded
            ? [StepOps.Embed, StepOps.QkvGemm, StepOps.Attention, StepOps.OGemm, StepOps.GateUpGemm,
               StepOps.SwiGlu, StepOps.DownGemm, StepOps.Norm, StepOps.LmHead, StepOps.Logits]
            : [StepOps.Embed, StepOps.Norm, StepOps.QkvGemm, StepOps.Attention,
               StepOps.OGemm, StepOps.GateUpGemm, StepOps.SwiGlu, StepOps.DownGemm, StepOps.LmHead, StepOps.Logits];
        // A decode step's rows are already one per sequence: no gather before the LM head.
        Assert.Equal(expected, labels.Where(l => l != StepOps.Metadata).ToArray());
        Assert.DoesNotContain(StepOps.RopeAppend, labels);
        Assert.DoesNotContain(StepOps.Bias, labels);
        if (fused) Assert.DoesNotContain(StepOps.SwiGlu, labels);
        int Launches(string label) => p.Entries.Single(e => e.Label == label).Launches;
        Assert.Equal(Layers, Launches(StepOps.QkvGemm));
        Assert.Equal(Layers, Launches(StepOps.Attention));
        Assert.Equal(fused ? 2 : folded ? 1 : 2 * Layers + 1, Launches(StepOps.Norm));
        Assert.Equal(1, Launches(StepOps.LmHead));
        foreach (var e in p.Entries) Assert.True(e.Milliseconds > 0, $"{e.Label}: {e.Milliseconds} ms");
        Assert.True(p.TotalMs > 0);
        Assert.True(Math.Abs(p.SumMs - p.TotalMs) <= 0.05 * p.TotalMs, $"sum {p.SumMs} ms, total {p.TotalMs} ms");

        // The profiled step is the unpadded, uncaptured step: the same logits, bit for bit, as a model without graphs.
        plain.DecodeStep(entries);
        var a = new float[batch * Vocab];
        var b = new float[batch * Vocab];
        model.ReadLogits(a);
        plain.ReadLogits(b);
        Assert.Equal(b, a);

        // Decoding with graphs goes on as before (a replay, or a capture if the unpadded step grew the GEMM scratch).
        model.DecodeStep(entries.Select(e => e with { Position = 11 }).ToArray());
        Assert.Equal(captures + replays + 1, model.GraphCaptures + model.GraphReplays);
    }
}
