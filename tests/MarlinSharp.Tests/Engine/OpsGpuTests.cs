using MarlinSharp.Cuda;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;
using static MarlinSharp.Tests.Engine.EngineGpu;

namespace MarlinSharp.Tests.Engine;

/// <summary>Each engine kernel against a double-precision CPU reference on random inputs (GPU only).</summary>
public class OpsGpuTests
{
    private static LlamaConfig Shape(int heads, int kvHeads, int headDim, int layers = 2, int maxPos = 4096) =>
        new("llama", heads * headDim, 256, layers, heads, kvHeads, headDim, 256, 1e-5, 10000.0, null, maxPos, false, false, [], [], null);

    [Fact]
    public void RmsNormAndFusedResidualAdd()
    {
        var rt = Runtime;
        using var k = new LlamaKernels(rt, 64, 1);
        using var s = rt.CreateStream();
        var rng = new Random(1);
        int rows = 5, h = 1000;
        Half[] x = RandomHalf(rng, rows * h, 3), d = RandomHalf(rng, rows * h), w = RandomHalf(rng, h, 2);
        using var bx = rt.Context.Upload<Half>(x);
        using var bd = rt.Context.Upload<Half>(d);
        using var bw = rt.Context.Upload<Half>(w);
        using var bo = rt.Context.Allocate<Half>(rows * h);

        double[] Norm(double[] v)
        {
            var y = new double[v.Length];
            for (int r = 0; r < rows; r++)
            {
                double ss = 0;
                for (int i = 0; i < h; i++) ss += v[r * h + i] * v[r * h + i];
                double inv = 1 / Math.Sqrt(ss / h + 1e-5);
                for (int i = 0; i < h; i++) y[r * h + i] = v[r * h + i] * inv * (double)w[i];
            }
            return y;
        }

        k.RmsNorm(bx, bw, bo, rows, h, 1e-5f, s);
        s.Synchronize();
        AssertClose(Norm(ToDouble(x)), bo.ToArray(), 1e-2, "rmsnorm");

        k.AddRmsNorm(bx, bd, bw, bo, rows, h, 1e-5f, s);
        s.Synchronize();
        var sum = x.Zip(d, (a, b) => (double)a + (double)b).ToArray();
        AssertClose(sum, bx.ToArray(), 4e-3, "residual");
        AssertClose(Norm(sum), bo.ToArray(), 1e-2, "add_rmsnorm");
    }

    [Theory]
    [InlineData(700, 700)]   // plain [gate | up]
    [InlineData(704, 32)]    // interleaved in blocks of 32 (INT4 models)
    [InlineData(96, 96)]
    public void SwiGluOfFusedGateUp(int inter, int block)
    {
        var rt = Runtime;
        using var k = new LlamaKernels(rt, 64, 1);
        using var s = rt.CreateStream();
        var rng = new Random(2 + block);
        int rows = 3;
        Half[] gu = RandomHalf(rng, rows * 2 * inter, 4);
        using var bg = rt.Context.Upload<Half>(gu);
        using var bo = rt.Context.Allocate<Half>(rows * inter);
        k.SwiGlu(bg, bo, rows, inter, block, s);
        s.Synchronize();
        var expected = new double[rows * inter];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < inter; i++)
            {
                int gateCol = i / block * 2 * block + i % block;
                double g = (double)gu[r * 2 * inter + gateCol], u = (double)gu[r * 2 * inter + gateCol + block];
                expected[r * inter + i] = g / (1 + Math.Exp(-g)) * u;
            }
        AssertClose(expected, bo.ToArray(), 2e-2, "swiglu");
    }

    /// <summary>1/sqrt(mean(x²) + eps) of each row of x [rows][h], in double precision.</summary>
    private static double[] RowRstd(Half[] x, int rows, int h, double eps)
    {
        var r = new double[rows];
        for (int t = 0; t < rows; t++)
        {
            double ss = 0;
            for (int i = 0; i < h; i++) ss += (double)x[t * h + i] * (double)x[t * h + i];
            r[t] = 1 / Math.Sqrt(ss / h + eps);
        }
        return r;
    }

    [Theory]
    [InlineData(696)]
    [InlineData(2048 + 8)]   // a second, partial block of columns per row
    public void SwiGluNormedScalesGateAndUpByTheResidualRowsRms(int inter)
    {
        var rt = Runtime;
        using var k = new LlamaKernels(rt, 64, 1);
        using var s = rt.CreateStream();
        var rng = new Random(5 + inter);
        int rows = 3, h = 8 * 1000 + 8 * 300;   // more 16-byte vectors per row than the block loads at once
        Half[] gu = RandomHalf(rng, rows * 2 * inter, 40), x = RandomHalf(rng, rows * h, 20);
        using var bg = rt.Context.Upload<Half>(gu);
        using var bx = rt.Context.Upload<Half>(x);
        using var bo = rt.Context.Allocate<Half>(rows * inter);
        k.SwiGluNormed(bg, bo, rows, inter, bx, h, 1e-5f, s);
        s.Synchronize();
        double[] rstd = RowRstd(x, rows, h, 1e-5);
        var expected = new double[rows * inter];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < inter; i++)
            {
                double g = (double)gu[r * 2 * inter + i] * rstd[r], u = (double)gu[r * 2 * inter + inter + i] * rstd[r];
                expected[r * inter + i] = g / (1 + Math.Exp(-g)) * u;
            }
        AssertClose(expected, bo.ToArray(), 2e-2, "swiglu_normed");
        Assert.Throws<NotSupportedException>(() => k.SwiGluNormed(bg, bo, rows, inter + 4, bx, h, 1e-5f, s));
        Assert.Equal("residual", Assert.Throws<ArgumentException>(() => k.SwiGluNormed(bg, bo, rows, inter, bx.Slice(0, rows * h - 8), h, 1e-5f, s)).ParamName);
    }

    [Theory]
    [InlineData(4, 2, 64)]
    [InlineData(8, 8, 128)]
    [InlineData(6, 2, 256)]
    public void RopeAppendNormedScalesRotatesAndAppends(int heads, int kvHeads, int d)
    {
        var rt = Runtime;
        var c = Shape(heads, kvHeads, d);
        using var k = new LlamaKernels(rt, d, heads / kvHeads);
        using var cache = new KvCache(rt.Context, c, 3, 512);
        using var s = rt.CreateStream();
        var rng = new Random(heads * 100 + d);
        int tokens = 3, stride = (heads + 2 * kvHeads) * d, h = 4096, layer = 1, half = d / 2;
        int[] positions = [0, 77, 300], slots = [2, -1, 0];   // -1: a padding row, rotated but not appended
        Half[] qkv = RandomHalf(rng, tokens * stride, 30), x = RandomHalf(rng, tokens * h, 10);
        var (cos, sin) = RopeTable.Compute(c, 512);
        using var bq = rt.Context.Upload<Half>(qkv);
        using var bx = rt.Context.Upload<Half>(x);
        using var bp = rt.Context.Upload<int>(positions);
        using var bsl = rt.Context.Upload<int>(slots);
        using var bc = rt.Context.Upload<float>(cos);
        using var bs = rt.Context.Upload<float>(sin);
        cache.Keys.FillBytes(0, s);
        cache.Values.FillBytes(0, s);
        k.RopeAppendNormed(bq, bp, bsl, bc, bs, cache, tokens, heads, kvHeads, layer, bx, h, 1e-5f, s);
        s.Synchronize();

        double[] rstd = RowRstd(x, tokens, h, 1e-5);
        float[] inv = RopeTable.InverseFrequencies(c);
        var expected = new double[tokens * stride];
        for (int t = 0; t < tokens; t++)
            for (int head = 0; head < heads + 2 * kvHeads; head++)
                for (int i = 0; i < half; i++)
                {
                    int b = t * stride + head * d;
                    double x0 = (double)qkv[b + i] * rstd[t], x1 = (double)qkv[b + i + half] * rstd[t];
                    if (head >= heads + kvHeads) { expected[b + i] = x0; expected[b + i + half] = x1; continue; }
                    double a = positions[t] * (double)inv[i];
                    expected[b + i] = x0 * Math.Cos(a) - x1 * Math.Sin(a);
                    expected[b + i + half] = x1 * Math.Cos(a) + x0 * Math.Sin(a);
                }
        Half[] got = bq.ToArray();
        // Query and key heads are rotated in place; value heads are left as they came (only their cache copy is scaled).
        var rotatedExpected = new List<double>();
        var rotatedGot = new List<Half>();
        for (int t = 0; t < tokens; t++)
            for (int e = 0; e < (heads + kvHeads) * d; e++) { rotatedExpected.Add(expected[t * stride + e]); rotatedGot.Add(got[t * stride + e]); }
        AssertClose([.. rotatedExpected], [.. rotatedGot], 1e-2, "rotated q and k");
        for (int t = 0; t < tokens; t++)
            for (int e = (heads + kvHeads) * d; e < stride; e++) Assert.Equal(qkv[t * stride + e], got[t * stride + e]);

        Half[] keys = cache.Keys.ToArray(), values = cache.Values.ToArray();
        for (int t = 0; t < tokens; t++)
            for (int kvh = 0; kvh < kvHeads; kvh++)
            {
                long at = (((long)Math.Max(slots[t], 0) * c.NumHiddenLayers + layer) * kvHeads + kvh) * 512 * d + (long)positions[t] * d;
                double[] ek = expected.AsSpan(t * stride + (heads + kvh) * d, d).ToArray();
                double[] ev = expected.AsSpan(t * stride + (heads + kvHeads + kvh) * d, d).ToArray();
                if (slots[t] < 0)
                {
                    Assert.All(keys.AsSpan((int)at, d).ToArray(), v => Assert.Equal(Half.Zero, v));
                    continue;
                }
                AssertClose(ek, keys.AsSpan((int)at, d).ToArray(), 1e-2, $"cached key, token {t}, kv head {kvh}");
                AssertClose(ev, values.AsSpan((int)at, d).ToArray(), 1e-2, $"cached value, token {t}, kv head {kvh}");
            }
    }

    [Fact]
    public void RowSquaresSumEachSixteenColumnBlock()
    {
        var rt = Runtime;
        using var k = new LlamaKernels(rt, 64, 1);
        using var s = rt.CreateStream();
        var rng = new Random(21);
        int rows = 3, h = 4096 + 16 * 300;   // more 16-column blocks than threads per block
        Half[] x = RandomHalf(rng, rows * h, 3);
        using var bx = rt.Context.Upload<Half>(x);
        using var bq = rt.Context.Allocate<float>(rows * h / 16);
        bq.Fill32(0x7fc00000u, s);   // NaN: every entry must be written (on the stream: a context-wide sync would break another test's graph capture)
        k.RowSquares(bx, bq, rows, h, s);
        s.Synchronize();
        var expected = new double[rows * h / 16];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < h; i++) expected[r * (h / 16) + i / 16] += (double)x[r * h + i] * (double)x[r * h + i];
        float[] got = bq.ToArray();
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(got[i] - expected[i]) <= 1e-5 * expected[i] + 1e-6, $"row_squares[{i}] = {got[i]}, expected {expected[i]}");
    }

    [Fact]
    public void RotaryEmbeddingRotatesQueryAndKeyHeadsOnly()
    {
        var rt = Runtime;
        var c = Shape(4, 2, 64) with { RopeScaling = new RopeScaling("llama3", 8, 1, 4, 64) };
        using var k = new LlamaKernels(rt, 64, 2);
        using var s = rt.CreateStream();
        var rng = new Random(3);
        int tokens = 4, stride = (4 + 4) * 64;
        int[] positions = [0, 1, 77, 300];
        Half[] qkv = RandomHalf(rng, tokens * stride);
        var (cos, sin) = RopeTable.Compute(c, 512);
        using var bq = rt.Context.Upload<Half>(qkv);
        using var bp = rt.Context.Upload<int>(positions);
        using var bc = rt.Context.Upload<float>(cos);
        using var bs = rt.Context.Upload<float>(sin);
        k.RopeAppend(bq, bp, bp, bc, bs, null, tokens, 4, 2, 0, s);
        s.Synchronize();

        float[] inv = RopeTable.InverseFrequencies(c);
        var expected = ToDouble(qkv);
        for (int t = 0; t < tokens; t++)
            for (int head = 0; head < 6; head++)  // 4 query + 2 key heads; the 2 value heads stay
                for (int i = 0; i < 32; i++)
                {
                    int b = t * stride + head * 64;
                    double a = positions[t] * (double)inv[i];
                    double x0 = (double)qkv[b + i], x1 = (double)qkv[b + i + 32];
                    expected[b + i] = x0 * Math.Cos(a) - x1 * Math.Sin(a);
                    expected[b + i + 32] = x1 * Math.Cos(a) + x0 * Math.Sin(a);
                }
        AssertClose(expected, bq.ToArray(), 4e-3, "rope");
    }

    /// <summary>Naive causal GQA softmax attention in double over the rotated rows of one sequence.</summary>
    private static double[] NaiveAttention(Half[] qkv, int firstRow, int rows, int queryRow, int heads, int kvHeads, int d)
    {
        int stride = (heads + 2 * kvHeads) * d;
        var o = new double[heads * d];
        for (int h = 0; h < heads; h++)
        {
            int kh = h / (heads / kvHeads);
            var sc = new double[queryRow + 1];
            double max = double.NegativeInfinity;
            for (int j = 0; j <= queryRow; j++)
            {
                double dot = 0;
                for (int e = 0; e < d; e++)
                    dot += (double)qkv[(firstRow + queryRow) * stride + h * d + e] * (double)qkv[(firstRow + j) * stride + (heads + kh) * d + e];
                sc[j] = dot / Math.Sqrt(d);
                max = Math.Max(max, sc[j]);
            }
            double sum = sc.Sum(v => Math.Exp(v - max));
            for (int j = 0; j <= queryRow; j++)
            {
                double p = Math.Exp(sc[j] - max) / sum;
                for (int e = 0; e < d; e++) o[h * d + e] += p * (double)qkv[(firstRow + j) * stride + (heads + kvHeads + kh) * d + e];
            }
        }
        return o;
    }

    [Theory]
    [InlineData(8, 2, 64, false)]
    [InlineData(4, 4, 128, false)]
    [InlineData(8, 2, 64, true)]
    [InlineData(16, 2, 128, true)]
    public void AttentionMatchesNaiveCausalSoftmax(int heads, int kvHeads, int d, bool decode)
    {
        var rt = Runtime;
        var c = Shape(heads, kvHeads, d);
        using var k = new LlamaKernels(rt, d, heads / kvHeads);
        using var cache = new KvCache(rt.Context, c, 4, 1024);
        using var s = rt.CreateStream();
        var rng = new Random(heads * 1000 + d + (decode ? 1 : 0));
        int[] lengths = decode ? [1, 37, 200, 700] : [1, 16, 45, 130];
        int[] slots = [2, 0, 3, 1];
        int tokens = lengths.Sum(), stride = (heads + 2 * kvHeads) * d, layer = 1;
        Half[] qkv = RandomHalf(rng, (long)tokens * stride, 2);
        var positions = new int[tokens];
        var tokenSlots = new int[tokens];
        var info = new int[4 * lengths.Length];
        int row = 0;
        for (int q = 0; q < lengths.Length; q++)
        {
            info[4 * q] = decode ? row + lengths[q] - 1 : row;
            info[4 * q + 1] = decode ? 1 : lengths[q];
            info[4 * q + 2] = decode ? lengths[q] - 1 : 0;
            info[4 * q + 3] = slots[q];
            for (int i = 0; i < lengths[q]; i++, row++) { positions[row] = i; tokenSlots[row] = slots[q]; }
        }
        var (cos, sin) = RopeTable.Compute(c, 1024);
        using var bq = rt.Context.Upload<Half>(qkv);
        using var bp = rt.Context.Upload<int>(positions);
        using var bsl = rt.Context.Upload<int>(tokenSlots);
        using var bi = rt.Context.Upload<int>(info);
        using var bc = rt.Context.Upload<float>(cos);
        using var bs = rt.Context.Upload<float>(sin);
        using var bo = rt.Context.Allocate<Half>((long)tokens * heads * d);
        using var po = rt.Context.Allocate<float>((long)lengths.Length * heads * AttentionPlan.MaxSplits * d);
        using var pm = rt.Context.Allocate<float>((long)lengths.Length * heads * AttentionPlan.MaxSplits * 2);
        bo.FillBytes(0, s);   // on the stream: a context-wide sync would break another test's graph capture

        k.RopeAppend(bq, bp, bsl, bc, bs, cache, tokens, heads, kvHeads, layer, s);
        if (decode) k.AttentionDecode(bq, bo, cache, bi, lengths.Length, lengths.Max(), heads, kvHeads, layer, po, pm, s);
        else k.AttentionPrefill(bq, bo, cache, bi, lengths.Length, lengths.Max(), heads, kvHeads, layer, s);
        s.Synchronize();
        Half[] rotated = bq.ToArray(), output = bo.ToArray();

        row = 0;
        for (int q = 0; q < lengths.Length; q++)
        {
            for (int i = decode ? lengths[q] - 1 : 0; i < lengths[q]; i++)
            {
                var expected = NaiveAttention(rotated, row, lengths[q], i, heads, kvHeads, d);
                var actual = output.AsSpan((row + i) * heads * d, heads * d).ToArray();
                AssertClose(expected, actual, 3e-3, $"sequence {q} (length {lengths[q]}), row {i}");
            }
            row += lengths[q];
        }
    }

    [Theory]
    [InlineData(5000)]   // 16-byte vectors
    [InlineData(4999)]   // element by element
    public void FinishLogitsConvertsRowsAndPicksTheFirstMaximum(int cols)
    {
        var rt = Runtime;
        using var k = new LlamaKernels(rt, 64, 1);
        using var s = rt.CreateStream();
        int rows = 4;
        var rng = new Random(4 + cols);
        var logits = Enumerable.Range(0, rows * cols).Select(_ => (Half)(rng.NextDouble() * 8 - 4)).ToArray();
        logits[0 * cols + 4321] = (Half)5; logits[0 * cols + 4322] = (Half)5;      // tie: the first wins
        logits[1 * cols + 0] = (Half)6;
        logits[2 * cols + cols - 1] = (Half)9;
        for (int i = 0; i < cols; i++) logits[3 * cols + i] = i % 3 == 0 ? Half.NaN : Half.NegativeInfinity;   // no maximum: 0
        using var bl = rt.Context.Upload<Half>(logits);
        using var bf = rt.Context.Allocate<float>(rows * cols);
        using var greedy = rt.Context.Allocate<int>(rows);
        using var host = rt.Context.AllocatePinned<int>(3 * rows, mapped: true);
        using var ring = rt.Context.Upload<int>([rows]);            // the second part of the host buffer
        host.Span.Fill(-7);
        k.FinishLogits(bl, bf, rows, cols, greedy, host.DeviceView, ring, s);
        s.Synchronize();
        int[] expected = [4321, 0, cols - 1, 0];
        Assert.Equal(expected, greedy.ToArray());
        Assert.Equal(expected, host.Span.Slice(rows, rows).ToArray());
        Assert.All(host.Span[..rows].ToArray(), v => Assert.Equal(-7, v));
        Assert.All(host.Span[(2 * rows)..].ToArray(), v => Assert.Equal(-7, v));
        var floats = bf.ToArray();
        for (int i = 0; i < logits.Length; i++)
            Assert.True(floats[i].Equals((float)logits[i]), $"element {i}: {floats[i]} against {(float)logits[i]}");
    }
}
