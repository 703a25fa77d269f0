using MarlinSharp.Formats;

namespace MarlinSharp.Quantization;

/// <summary>
/// Round-to-nearest symmetric 4-bit quantization, the rule of the reference Marlin tests:
/// per group and column s = fp16(2·max|w| / 15) (s = 1 where the maximum is 0), then
/// q = clamp(round_half_even(fp16(w / s)) + 8, 0, 15) with the fp16-rounded s.
/// </summary>
public static class RtnQuantizer
{
    /// <summary>Quantizes logical weights W[k][n] (row-major).</summary>
    /// <exception cref="ArgumentException">Length mismatch or a NaN/infinite weight.</exception>
    public static QuantizedWeights Quantize(ReadOnlySpan<Half> weightsKN, MarlinLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        int k = layout.InFeatures;
        int n = layout.OutFeatures;
        if (weightsKN.Length != layout.CodeCount)
        {
            throw new ArgumentException(
                $"weightsKN must hold k*n = {layout.CodeCount} values ([{k}][{n}]) for {layout}; got {weightsKN.Length}.",
                nameof(weightsKN));
        }

        int g = layout.EffectiveGroupSize;
        var maxAbs = new float[layout.ScaleCount];
        for (int row = 0; row < k; row++)
        {
            ReadOnlySpan<Half> w = weightsKN.Slice(row * n, n);
            Span<float> mx = maxAbs.AsSpan(row / g * n, n);
            for (int col = 0; col < n; col++)
            {
                float v = (float)w[col];
                if (!float.IsFinite(v))
                {
                    throw new ArgumentException($"weightsKN[{row}][{col}] = {v} is not finite.", nameof(weightsKN));
                }

                float a = MathF.Abs(v);
                if (a > mx[col])
                {
                    mx[col] = a;
                }
            }
        }

        var scales = new Half[maxAbs.Length];
        for (int i = 0; i < maxAbs.Length; i++)
        {
            scales[i] = ScaleFor(maxAbs[i]);
        }

        var codes = new byte[weightsKN.Length];
        MarlinPacker.QuantizeWithScales(weightsKN, scales, layout, codes, nameof(weightsKN));
        return new QuantizedWeights(layout, codes, scales);
    }

    /// <summary>
    /// Quantizes a PyTorch <c>nn.Linear</c> weight stored as [n][k] (out_features × in_features, row-major);
    /// the result is for the logical W[k][n] = linearWeightᵀ.
    /// </summary>
    public static QuantizedWeights QuantizeLinear(ReadOnlySpan<Half> linearWeight, MarlinLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        int k = layout.InFeatures;
        int n = layout.OutFeatures;
        if (linearWeight.Length != layout.CodeCount)
        {
            throw new ArgumentException(
                $"linearWeight must hold n*k = {layout.CodeCount} values ([{n}][{k}]) for {layout}; got {linearWeight.Length}.",
                nameof(linearWeight));
        }

        var transposed = new Half[linearWeight.Length];
        const int Block = 64;
        for (int r0 = 0; r0 < n; r0 += Block)
        {
            for (int c0 = 0; c0 < k; c0 += Block)
            {
                int r1 = Math.Min(n, r0 + Block);
                int c1 = Math.Min(k, c0 + Block);
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++)
                    {
                        transposed[(c * n) + r] = linearWeight[(r * k) + c];
                    }
                }
            }
        }

        try
        {
            return Quantize(transposed, layout);
        }
        catch (ArgumentException e) when (e.ParamName == "weightsKN")
        {
            throw new ArgumentException(e.Message.Replace("weightsKN", "linearWeight (transposed to [k][n])", StringComparison.Ordinal), nameof(linearWeight), e);
        }
    }

    /// <summary>
    /// s = fp16(2·max/15), or 1 when the group is all zero. A maximum so small that s would round to fp16 zero
    /// (below about 4.5e-7) gets the smallest positive fp16 instead, so that codes stay defined.
    /// </summary>
    internal static Half ScaleFor(float maxAbs)
    {
        if (maxAbs == 0f)
        {
            return Half.One;
        }

        Half s = (Half)(2.0 * maxAbs / 15.0);
        return s == Half.Zero ? Half.Epsilon : s;
    }
}
