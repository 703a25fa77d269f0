using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

/// <summary>
/// A plain double-precision Llama forward pass over FP16 weights read from a checkpoint: the CPU reference the GPU
/// engine is compared with. Recomputes the whole sequence every call (tiny models only).
/// </summary>
internal sealed class ReferenceLlama
{
    private readonly LlamaConfig _c;
    private readonly Dictionary<string, double[]> _w = new(StringComparer.Ordinal);

    public ReferenceLlama(LlamaCheckpoint checkpoint)
    {
        _c = checkpoint.Config;
        foreach (var e in LlamaTensorNames.For(_c))
            if (checkpoint.Contains(e.Name)) _w[e.Name] = checkpoint.ReadHalf(e.Name).Select(h => (double)h).ToArray();
    }

    public LlamaConfig Config => _c;

    /// <summary>Logits [vocab] after the last token of <paramref name="tokens"/>.</summary>
    public double[] LastLogits(IReadOnlyList<int> tokens)
    {
        var c = _c;
        int T = tokens.Count, H = c.HiddenSize, d = c.HeadDim, nh = c.NumAttentionHeads, nkv = c.NumKeyValueHeads;
        var x = new double[T][];
        for (int t = 0; t < T; t++) x[t] = _w[LlamaTensorNames.Embedding].AsSpan(tokens[t] * H, H).ToArray();
        float[] inv = RopeTable.InverseFrequencies(c);
        for (int l = 0; l < c.NumHiddenLayers; l++)
        {
            string L(string s) => LlamaTensorNames.Layer(l, s);
            var q = new double[T][]; var k = new double[T][]; var v = new double[T][];
            for (int t = 0; t < T; t++)
            {
                var n = Norm(x[t], _w[L("input_layernorm.weight")]);
                q[t] = Linear(n, L("self_attn.q_proj.weight"), L("self_attn.q_proj.bias"));
                k[t] = Linear(n, L("self_attn.k_proj.weight"), L("self_attn.k_proj.bias"));
                v[t] = Linear(n, L("self_attn.v_proj.weight"), L("self_attn.v_proj.bias"));
                Rope(q[t], nh, t, inv);
                Rope(k[t], nkv, t, inv);
            }
            for (int t = 0; t < T; t++)
            {
                var att = new double[nh * d];
                for (int h = 0; h < nh; h++)
                {
                    int kh = h / (nh / nkv);
                    var s = new double[t + 1];
                    double max = double.NegativeInfinity;
                    for (int j = 0; j <= t; j++)
                    {
                        double dot = 0;
                        for (int e = 0; e < d; e++) dot += q[t][h * d + e] * k[j][kh * d + e];
                        s[j] = dot / Math.Sqrt(d);
                        max = Math.Max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++) { s[j] = Math.Exp(s[j] - max); sum += s[j]; }
                    for (int j = 0; j <= t; j++)
                        for (int e = 0; e < d; e++) att[h * d + e] += s[j] / sum * v[j][kh * d + e];
                }
                var o = Linear(att, L("self_attn.o_proj.weight"), L("self_attn.o_proj.bias"));
                for (int i = 0; i < H; i++) x[t][i] += o[i];
                var n2 = Norm(x[t], _w[L("post_attention_layernorm.weight")]);
                var g = Linear(n2, L("mlp.gate_proj.weight"), null);
                var u = Linear(n2, L("mlp.up_proj.weight"), null);
                for (int i = 0; i < g.Length; i++) g[i] = g[i] / (1 + Math.Exp(-g[i])) * u[i];
                var down = Linear(g, L("mlp.down_proj.weight"), null);
                for (int i = 0; i < H; i++) x[t][i] += down[i];
            }
        }
        var final = Norm(x[T - 1], _w[LlamaTensorNames.FinalNorm]);
        string head = !c.TieWordEmbeddings && _w.ContainsKey(LlamaTensorNames.LmHead) ? LlamaTensorNames.LmHead : LlamaTensorNames.Embedding;
        return Linear(final, head, null);
    }

    private double[] Norm(double[] x, double[] w)
    {
        double ss = 0;
        foreach (double v in x) ss += v * v;
        double r = 1 / Math.Sqrt(ss / x.Length + _c.RmsNormEps);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * r * w[i];
        return y;
    }

    private double[] Linear(double[] x, string weight, string? bias)
    {
        var w = _w[weight];
        int n = w.Length / x.Length;
        var y = new double[n];
        for (int o = 0; o < n; o++)
        {
            double acc = 0;
            for (int i = 0; i < x.Length; i++) acc += w[(long)o * x.Length + i] * x[i];
            y[o] = acc;
        }
        if (bias is not null && _w.TryGetValue(bias, out var b)) for (int o = 0; o < n; o++) y[o] += b[o];
        return y;
    }

    private void Rope(double[] v, int heads, int pos, float[] inv)
    {
        int d = _c.HeadDim, half = d / 2;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
            {
                double a = pos * (double)inv[i];
                double x0 = v[h * d + i], x1 = v[h * d + i + half];
                v[h * d + i] = x0 * Math.Cos(a) - x1 * Math.Sin(a);
                v[h * d + i + half] = x1 * Math.Cos(a) + x0 * Math.Sin(a);
            }
    }
}
