using MarlinSharp.Cuda;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;
using static MarlinSharp.Tests.Engine.EngineGpu;

namespace MarlinSharp.Tests.Engine;

/// <summary>
/// attention_decode_rope (rotary embedding + cache append + decode attention in one launch) against the two-kernel path
/// it replaces, rope_append (or rope_append_normed, for a QKV projection with the norm folded in) then attention_decode,
/// on copies of the same inputs and cache, and against a float64 reference (GPU only).
/// </summary>
public class FusedDecodeAttentionGpuTests
{
    private const int Slots = 4, Layers = 2, Layer = 1, MaxContext = 4096;

    private static LlamaConfig Shape(int heads, int kvHeads, int headDim) =>
        new("llama", heads * headDim, 256, Layers, heads, kvHeads, headDim, 256, 1e-5, 10000.0, null, MaxContext, false, false, [], [], null);

    /// <summary>A decode step's context lengths (one new token each, at position context - 1) for the real sequences.</summary>
    public enum Step
    {
        /// <summary>Every context within one tile: a single split.</summary>
        OneSplit,
        /// <summary>Several splits; new positions at the first and the last key of a tile, and a one-token context.</summary>
        Splits,
        /// <summary>Long contexts: several tiles per split, new positions inside a split's later tile.</summary>
        LongSplits,
    }

    private static int[] Contexts(Step step, int tile) => step switch
    {
        Step.OneSplit => [37, 1, tile, 2],
        Step.Splits => [700, 1, tile + 1, 2 * tile],
        _ => [4000, 3 * tile + 7, 1, 2 * tile + 31],
    };

    [Theory]
    [InlineData(8, 2, 64, Step.OneSplit)]
    [InlineData(8, 2, 64, Step.Splits)]
    [InlineData(8, 2, 64, Step.LongSplits)]
    [InlineData(16, 2, 128, Step.OneSplit)]
    [InlineData(16, 2, 128, Step.Splits)]
    [InlineData(16, 2, 128, Step.LongSplits)]
    [InlineData(4, 4, 128, Step.Splits)]
    [InlineData(8, 1, 256, Step.Splits)]
    [InlineData(8, 1, 256, Step.LongSplits)]
    [InlineData(8, 2, 64, Step.OneSplit, true)]     // single-tile splits read from the cache, as at large batches
    [InlineData(16, 2, 128, Step.OneSplit, true)]
    [InlineData(8, 8, 128, Step.OneSplit, false, true)]  // normed (a folded FP16 decode step), group 1 as llama2-7b
    [InlineData(8, 2, 64, Step.Splits, false, true)]
    [InlineData(16, 2, 128, Step.OneSplit, true, true)]
    public void MatchesRopeAppendThenAttentionDecode(int heads, int kvHeads, int d, Step step, bool unstaged = false, bool normed = false)
    {
        var rt = Runtime;
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        string run = $"seed {seed}, heads {heads}/{kvHeads}, head_dim {d}, {step}{(unstaged ? ", unstaged" : "")}{(normed ? ", normed" : "")}";
        var c = Shape(heads, kvHeads, d);
        using var k = new LlamaKernels(rt, d, heads / kvHeads) { NeverStageDecodeTiles = unstaged };
        using var s = rt.CreateStream();
        int tile = AttentionPlan.DecodeTileKeys(d), half = d / 2, stride = (heads + 2 * kvHeads) * d;

        // Rows: the real sequences (slots 2, 0, 3, 1), then two padding rows as LlamaModel.PackMetadata makes them
        // (slot -1, reading the first real sequence's slot: at position 0, and at position 9 to rotate q as well).
        int[] contexts = Contexts(step, tile);
        int[] realSlots = [2, 0, 3, 1];
        int real = contexts.Length, rows = real + 2;
        var positions = new int[rows];
        var tokenSlots = new int[rows];
        var info = new int[4 * rows];
        for (int r = 0; r < rows; r++)
        {
            bool isReal = r < real;
            int start = isReal ? contexts[r] - 1 : (r == real ? 0 : 9);
            info[4 * r] = r;
            info[4 * r + 1] = 1;
            info[4 * r + 2] = start;
            info[4 * r + 3] = isReal ? realSlots[r] : realSlots[0];
            positions[r] = start;
            tokenSlots[r] = isReal ? realSlots[r] : -1;
        }
        Assert.True(contexts[0] > 10, "the padding rows must read positions the step does not write");
        int longest = contexts.Max();
        var (splits, keysPerSplit) = AttentionPlan.Decode(rows, kvHeads, longest, d, rt.Device.MultiprocessorCount);
        if (step == Step.OneSplit) Assert.Equal(1, splits);
        else Assert.True(splits > 1, $"{run}: expected several splits, the plan has {splits}");

        Half[] qkv = RandomHalf(rng, (long)rows * stride, 2);
        // normed: residual rows whose 1/rms scales each QKV row first (the two paths reduce in different orders, so
        // values may round one FP16 step apart: compared within tolerances below, not bitwise).
        int hidden = c.HiddenSize;
        const float eps = 1e-5f;
        Half[] residual = RandomHalf(rng, (long)rows * hidden, 2);
        var rowScale = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int e = 0; e < hidden; e++) ss += (double)residual[(long)r * hidden + e] * (double)residual[(long)r * hidden + e];
            rowScale[r] = normed ? 1 / Math.Sqrt(ss / hidden + eps) : 1;
        }
        long cacheElements = (long)Slots * Layers * kvHeads * MaxContext * d;
        Half[] keys0 = RandomHalf(rng, cacheElements, 2), values0 = RandomHalf(rng, cacheElements, 2);
        var (cos, sin) = RopeTable.Compute(c, MaxContext);

        using var cacheA = new KvCache(rt.Context, c, Slots, MaxContext);
        using var cacheB = new KvCache(rt.Context, c, Slots, MaxContext);
        cacheA.Keys.CopyFrom(keys0);
        cacheA.Values.CopyFrom(values0);
        cacheB.Keys.CopyFrom(keys0);
        cacheB.Values.CopyFrom(values0);
        using var qkvA = rt.Context.Upload<Half>(qkv);
        using var qkvB = rt.Context.Upload<Half>(qkv);
        using var bp = rt.Context.Upload<int>(positions);
        using var bsl = rt.Context.Upload<int>(tokenSlots);
        using var bi = rt.Context.Upload<int>(info);
        using var bc = rt.Context.Upload<float>(cos);
        using var bs = rt.Context.Upload<float>(sin);
        using var bx = rt.Context.Upload<Half>(residual);
        using var outA = rt.Context.Allocate<Half>((long)rows * heads * d);
        using var outB = rt.Context.Allocate<Half>((long)rows * heads * d);
        using var po = rt.Context.Allocate<float>((long)rows * heads * AttentionPlan.MaxSplits * d);
        using var pm = rt.Context.Allocate<float>((long)rows * heads * AttentionPlan.MaxSplits * 2);
        outA.Fill32(0xFFFF_FFFFu, s);  // NaN: a row never written shows
        outB.Fill32(0xFFFF_FFFFu, s);

        if (normed) k.RopeAppendNormed(qkvA, bp, bsl, bc, bs, cacheA, rows, heads, kvHeads, Layer, bx, hidden, eps, s);
        else k.RopeAppend(qkvA, bp, bsl, bc, bs, cacheA, rows, heads, kvHeads, Layer, s);
        k.AttentionDecode(qkvA, outA, cacheA, bi, rows, longest, heads, kvHeads, Layer, po, pm, s);
        k.AttentionDecodeRope(qkvB, outB, cacheB, bi, bp, bsl, bc, bs, rows, longest, heads, kvHeads, Layer, po, pm, s,
            normed ? new LlamaKernels.ResidualNorm(bx, hidden, eps) : null);
        s.Synchronize();

        // Outputs: the same (bitwise expected without the norm; 1e-3 allowed, 3e-3 normed), every element written.
        Half[] a = outA.ToArray(), b = outB.ToArray();
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < a.Length; i++)
        {
            Assert.False(Half.IsNaN(b[i]), $"{run}: fused output {i} (row {i / (heads * d)}) was not written");
            double diff = Math.Abs((double)a[i] - (double)b[i]);
            if (!(diff <= worst)) { worst = diff; worstAt = i; }
        }
        Assert.True(worst <= (normed ? 3e-3 : 1e-3), $"{run}: fused output differs from rope_append + attention_decode by {worst} at {worstAt} (row {worstAt / (heads * d)}, splits {splits}, keys per split {keysPerSplit})");

        // Caches: bitwise equal (normed: within two FP16 steps), and equal to the initial contents except the new
        // position of each real sequence (so the slot -1 rows wrote nothing).
        Half[] keysA = cacheA.Keys.ToArray(), keysB = cacheB.Keys.ToArray();
        Half[] valuesA = cacheA.Values.ToArray(), valuesB = cacheB.Values.ToArray();
        var written = new HashSet<long>();
        for (int r = 0; r < real; r++)
            for (int h = 0; h < kvHeads; h++)
                written.Add(CacheRow(realSlots[r], h, contexts[r] - 1, kvHeads));
        for (long i = 0; i < cacheElements; i++)
        {
            if (!SameCached(keysA[i], keysB[i], normed))
                Assert.Fail($"{run}: key cache differs at {Describe(i, kvHeads, d)}: two kernels {keysA[i]}, fused {keysB[i]}");
            if (!SameCached(valuesA[i], valuesB[i], normed))
                Assert.Fail($"{run}: value cache differs at {Describe(i, kvHeads, d)}: two kernels {valuesA[i]}, fused {valuesB[i]}");
            if (!written.Contains(i / d)
                && (BitConverter.HalfToUInt16Bits(keysB[i]) != BitConverter.HalfToUInt16Bits(keys0[i])
                    || BitConverter.HalfToUInt16Bits(valuesB[i]) != BitConverter.HalfToUInt16Bits(values0[i])))
                Assert.Fail($"{run}: the fused kernel wrote the cache at {Describe(i, kvHeads, d)}, which no real row of the step owns");
        }

        // The fused kernel leaves the QKV rows unrotated.
        Assert.Equal(qkv, qkvB.ToArray());

        // Float64 reference: q and the new key rotated with the FP32 table and rounded to FP16 (as the kernels store
        // them), the softmax attention in double over the cache as it is after the step.
        for (int r = 0; r < rows; r++)
        {
            int slot = info[4 * r + 3], ctx = info[4 * r + 2] + 1, pos = positions[r];
            var q = new double[heads * d];
            for (int h = 0; h < heads; h++) Rotate(qkv, r * stride + h * d, pos, cos, sin, half, q, h * d, rowScale[r]);
            var expected = new double[heads * d];
            for (int h = 0; h < heads; h++)
            {
                int kh = h / (heads / kvHeads);
                var score = new double[ctx];
                double max = double.NegativeInfinity;
                for (int j = 0; j < ctx; j++)
                {
                    long at = CacheRow(slot, kh, j, kvHeads) * d;
                    double dot = 0;
                    for (int e = 0; e < d; e++) dot += q[h * d + e] * (double)keysB[at + e];
                    score[j] = dot / Math.Sqrt(d);
                    max = Math.Max(max, score[j]);
                }
                double sum = score.Sum(v => Math.Exp(v - max));
                for (int j = 0; j < ctx; j++)
                {
                    long at = CacheRow(slot, kh, j, kvHeads) * d;
                    double p = Math.Exp(score[j] - max) / sum;
                    for (int e = 0; e < d; e++) expected[h * d + e] += p * (double)valuesB[at + e];
                }
            }
            AssertClose(expected, b.AsSpan(r * heads * d, heads * d).ToArray(), 3e-3, $"{run}: row {r} (context {ctx}, slot {tokenSlots[r]})");
        }

        // The new keys in the cache are the rotated keys of the rows, the new values their values.
        for (int r = 0; r < real; r++)
            for (int h = 0; h < kvHeads; h++)
            {
                var key = new double[d];
                Rotate(qkv, r * stride + (heads + h) * d, positions[r], cos, sin, half, key, 0, rowScale[r]);
                long at = CacheRow(realSlots[r], h, contexts[r] - 1, kvHeads) * d;
                for (int e = 0; e < d; e++)
                {
                    Assert.True(Math.Abs(key[e] - (double)keysB[at + e]) <= 4e-3, $"{run}: row {r} kv head {h}: cached key[{e}] = {keysB[at + e]}, expected {key[e]}");
                    Half value = qkv[r * stride + (heads + kvHeads + h) * d + e];
                    if (normed) Assert.True(SameCached((Half)((double)value * rowScale[r]), valuesB[at + e], true), $"{run}: row {r} kv head {h}: cached value[{e}] = {valuesB[at + e]}, expected {(double)value * rowScale[r]}");
                    else Assert.Equal(value, valuesB[at + e]);
                }
            }
    }

    /// <summary>Index of the cache row (slot, Layer, kvHead, position), in units of head_dim.</summary>
    private static long CacheRow(int slot, int kvHead, int position, int kvHeads) =>
        (((long)slot * Layers + Layer) * kvHeads + kvHead) * MaxContext + position;

    private static string Describe(long element, int kvHeads, int d)
    {
        long row = element / d;
        long position = row % MaxContext, kvHead = row / MaxContext % kvHeads, layer = row / MaxContext / kvHeads % Layers;
        long slot = row / MaxContext / kvHeads / Layers;
        return $"slot {slot}, layer {layer}, kv head {kvHead}, position {position}, dim {element % d}";
    }

    /// <summary>Bitwise equal, or (normed) within two FP16 steps of each other.</summary>
    private static bool SameCached(Half a, Half b, bool normed) =>
        BitConverter.HalfToUInt16Bits(a) == BitConverter.HalfToUInt16Bits(b)
        || (normed && Math.Abs((double)a - (double)b) <= 2 * Math.Max(Math.Abs((double)a), 6.1e-5) / 1024);

    /// <summary>
    /// The head at qkv[offset..offset+d) times <paramref name="scale"/> (rounded to FP16, as a normed QKV row is) and rotated
    /// at position pos (table rows), in double, each value rounded to FP16.
    /// </summary>
    private static void Rotate(Half[] qkv, int offset, int pos, float[] cos, float[] sin, int half, double[] into, int at, double scale)
    {
        for (int i = 0; i < half; i++)
        {
            double c = cos[(long)pos * half + i], s = sin[(long)pos * half + i];
            double x0 = (double)(Half)((double)qkv[offset + i] * scale), x1 = (double)(Half)((double)qkv[offset + i + half] * scale);
            into[at + i] = (double)(Half)(x0 * c - x1 * s);
            into[at + i + half] = (double)(Half)(x1 * c + x0 * s);
        }
    }
}
