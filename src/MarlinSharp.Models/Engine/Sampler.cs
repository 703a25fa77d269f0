namespace MarlinSharp.Models.Engine;

/// <summary>
/// How to pick the next token. Temperature 0 (or TopK 1) is greedy. Otherwise, as Hugging Face orders it: divide the
/// logits by the temperature, keep the TopK largest (0 = all), keep the smallest set of most likely tokens whose
/// probability reaches TopP (1 = all), renormalise and draw with a generator seeded by Seed.
/// </summary>
public sealed record SamplingOptions(double Temperature = 0, int TopK = 0, double TopP = 1.0, ulong Seed = 0)
{
    public static SamplingOptions Greedy { get; } = new();

    public bool IsGreedy => Temperature <= 0 || TopK == 1;

    public void Validate()
    {
        if (!double.IsFinite(Temperature) || Temperature < 0) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be finite and ≥ 0.");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be ≥ 0 (0 = no limit).");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "TopP must be in (0, 1].");
    }
}

/// <summary>
/// Host-side sampling from FP32 logits (copied back from the GPU; greedy decoding can stay on the GPU instead).
/// One instance per sequence: its random stream advances with every draw, so a seed reproduces a whole generation.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private ulong _state;
    private int[] _order = [];
    private double[] _probs = [];

    public Sampler(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _state = options.Seed;
    }

    public SamplingOptions Options => _options;

    /// <summary>Index of the largest finite logit (first one on ties); 0 when none is finite.</summary>
    public static int Argmax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        float v = float.NegativeInfinity;
        for (int i = 0; i < logits.Length; i++)
            if (logits[i] > v) { v = logits[i]; best = i; }
        return best;
    }

    public int Sample(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("No logits to sample from.", nameof(logits));
        if (_options.IsGreedy) return Argmax(logits);

        int n = logits.Length;
        if (_order.Length < n) { _order = new int[n]; _probs = new double[n]; }
        Span<int> order = _order.AsSpan(0, n);
        for (int i = 0; i < n; i++) order[i] = i;
        // Most likely first; ties by index so results never depend on the sort's stability.
        var keys = logits.ToArray();
        order.Sort((a, b) => keys[a] != keys[b] ? (keys[b] > keys[a] ? 1 : -1) : a.CompareTo(b));
        int kept = _options.TopK > 0 ? Math.Min(_options.TopK, n) : n;

        double invT = 1.0 / _options.Temperature;
        double max = keys[order[0]] * invT, sum = 0;
        Span<double> p = _probs.AsSpan(0, kept);
        for (int i = 0; i < kept; i++)
        {
            double x = keys[order[i]];
            p[i] = double.IsFinite(x) ? Math.Exp(x * invT - max) : 0;
            sum += p[i];
        }
        if (!(sum > 0)) return order[0];
        if (_options.TopP < 1)
        {
            double cumulative = 0;
            int cut = kept;
            for (int i = 0; i < kept; i++)
            {
                cumulative += p[i] / sum;
                if (cumulative >= _options.TopP) { cut = i + 1; break; }
            }
            kept = cut;
            sum = 0;
            for (int i = 0; i < kept; i++) sum += p[i];
        }
        double u = NextDouble() * sum;
        double acc = 0;
        for (int i = 0; i < kept; i++)
        {
            acc += p[i];
            if (u < acc) return order[i];
        }
        return order[kept - 1];
    }

    private double NextDouble()
    {
        // SplitMix64: tiny, fast and fully determined by the seed.
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}
