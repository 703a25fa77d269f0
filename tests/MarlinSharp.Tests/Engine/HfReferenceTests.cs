using System.Text.Json;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

/// <summary>
/// The engine against Hugging Face transformers on the model written by scripts/make_llama_reference.py
/// (data/tiny-llama, or the folder in MARLINSHARP_LLAMA_REFERENCE). Skips when the folder or the GPU is absent.
/// </summary>
public class HfReferenceTests
{
    private static string Folder()
    {
        string? env = Environment.GetEnvironmentVariable("MARLINSHARP_LLAMA_REFERENCE");
        string dir = !string.IsNullOrEmpty(env) ? env : Path.Combine(AppContext.BaseDirectory, "data", "tiny-llama");
        if (!File.Exists(Path.Combine(dir, "reference.json")))
            Assert.Skip($"No Hugging Face reference model at '{dir}': run scripts/make_llama_reference.py OUTDIR on a machine with transformers, then copy OUTDIR/tiny-llama to tests/MarlinSharp.Tests/data/tiny-llama or set MARLINSHARP_LLAMA_REFERENCE.");
        return dir;
    }

    private sealed record Case(int[] Ids, float[] Logits, int[] Greedy, double Margin, double[]? Margins);

    /// <summary>Two logits closer than this are an FP16 tie: which one wins is rounding, not a bug.</summary>
    private const double TieMargin = 0.02;

    private static List<Case> ReadCases(string dir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "reference.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            c.GetProperty("last_logits").EnumerateArray().Select(x => x.GetSingle()).ToArray(),
            c.GetProperty("greedy").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            c.GetProperty("min_greedy_margin").GetDouble(),
            c.TryGetProperty("greedy_margins", out var m) ? m.EnumerateArray().Select(x => x.GetDouble()).ToArray() : null)).ToList();
    }

    [Fact]
    public void Fp16LogitsAndGreedyTokensMatchTransformers()
    {
        string dir = Folder();
        var rt = EngineGpu.Runtime;
        var cases = ReadCases(dir);
        using var weights = LlamaWeights.Load(rt, dir, LinearFormat.Fp16);
        using var model = new LlamaModel(rt, weights, slots: cases.Count, maxContext: 256, maxBatchTokens: 256);
        int vocab = model.VocabSize;
        var logits = new float[vocab];
        for (int i = 0; i < cases.Count; i++)
        {
            model.Prefill(i, cases[i].Ids);
            model.ReadLogits(logits);
            double worst = 0;
            for (int v = 0; v < vocab; v++) worst = Math.Max(worst, Math.Abs(logits[v] - cases[i].Logits[v]));
            Assert.True(worst <= 2e-2, $"case {i} ({cases[i].Ids.Length} tokens): max |logit diff| {worst}");
        }

        // All prompts at once through the scheduler: batched prefill and decode of different lengths.
        var scheduler = new BatchScheduler(model);
        var ids = cases.Select(c => scheduler.Submit(new GenerationRequest(c.Ids, c.Greedy.Length))).ToList();
        var results = scheduler.RunToCompletion();
        for (int i = 0; i < cases.Count; i++)
        {
            var got = results.Single(r => r.RequestId == ids[i]).Tokens;
            int mismatch = Enumerable.Range(0, cases[i].Greedy.Length).FirstOrDefault(j => j >= got.Count || got[j] != cases[i].Greedy[j], -1);
            // A divergence is acceptable only where the reference itself had an FP16 tie, and only after 8 matching steps.
            bool tie = mismatch >= 8 && cases[i].Margins is { } margins && margins[mismatch] < TieMargin;
            Assert.True(mismatch < 0 || tie, $"case {i}: greedy token {mismatch} differs (expected {string.Join(",", cases[i].Greedy)}, got {string.Join(",", got)}; smallest top-2 margin in the reference {cases[i].Margin})");
        }
    }

    [Fact]
    public void Int4LogitsStayCloseToTransformersFp16()
    {
        string dir = Folder();
        var rt = EngineGpu.Runtime;
        var cases = ReadCases(dir);
        using var weights = LlamaWeights.Load(rt, dir, LinearFormat.Int4);
        using var model = new LlamaModel(rt, weights, slots: 1, maxContext: 256, maxBatchTokens: 256);
        var logits = new float[model.VocabSize];
        foreach (var c in cases)
        {
            model.Prefill(0, c.Ids);
            model.ReadLogits(logits);
            double num = 0, den = 0;
            for (int v = 0; v < logits.Length; v++) { num += Math.Pow(logits[v] - c.Logits[v], 2); den += Math.Pow(c.Logits[v], 2); }
            Assert.True(Math.Sqrt(num / den) < 0.3, $"INT4 relative logit error {Math.Sqrt(num / den)} for a {c.Ids.Length}-token prompt");
        }
    }
}
