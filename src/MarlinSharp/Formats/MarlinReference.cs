using System.Numerics;

namespace MarlinSharp.Formats;

/// <summary>CPU reference computations used by tests and by verification tools.</summary>
public static class MarlinReference
{
    /// <summary>Dequantizes natural-order codes [k][n] with natural-order scales [ScaleRows][n]: W = fp16((q − 8)·s).</summary>
    public static Half[] Dequantize(ReadOnlySpan<byte> codes, ReadOnlySpan<Half> scales, MarlinLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        MarlinPacker.ValidateCodes(codes, layout, nameof(codes));
        if (scales.Length != layout.ScaleCount)
        {
            throw new ArgumentException(
                $"scales must hold ScaleRows*n = {layout.ScaleCount} values for {layout}; got {scales.Length}.", nameof(scales));
        }

        int k = layout.InFeatures;
        int n = layout.OutFeatures;
        int g = layout.EffectiveGroupSize;
        var result = new Half[codes.Length];
        Span<Half> dst = result;
        for (int row = 0; row < k; row++)
        {
            ReadOnlySpan<byte> q = codes.Slice(row * n, n);
            ReadOnlySpan<Half> s = scales.Slice(row / g * n, n);
            Span<Half> w = dst.Slice(row * n, n);
            for (int col = 0; col < n; col++)
            {
                // (q-8) has 4 significant bits and s 11, so the float product is exact; one rounding to fp16.
                w[col] = (Half)((q[col] - 8) * (float)s[col]);
            }
        }

        return result;
    }

    /// <summary>
    /// C[m][n] = Σ_k A[m][k]·W[k][n] accumulated in double (A row-major [m][k], W row-major [k][n]); returns C row-major.
    /// </summary>
    public static double[] Multiply(ReadOnlySpan<Half> a, int m, ReadOnlySpan<Half> weightsKN, int k, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (a.Length != (long)m * k)
        {
            throw new ArgumentException($"a must hold m*k = {(long)m * k} values ([{m}][{k}]); got {a.Length}.", nameof(a));
        }

        if (weightsKN.Length != (long)k * n)
        {
            throw new ArgumentException($"weightsKN must hold k*n = {(long)k * n} values ([{k}][{n}]); got {weightsKN.Length}.", nameof(weightsKN));
        }

        if ((long)m * n > Array.MaxLength)
        {
            throw new ArgumentException($"The result m*n = {(long)m * n} is too large for one array.", nameof(m));
        }

        var c = new double[m * n];
        if (m == 0)
        {
            return c;
        }

        var aD = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            aD[i] = (double)a[i];
        }

        // The weights must be reachable from worker threads; a span cannot be captured, so copy once.
        Half[] w = weightsKN.ToArray();

        const int ColumnBlock = 256;
        const int KBlock = 64;
        int columnBlocks = (n + ColumnBlock - 1) / ColumnBlock;
        Parallel.For(
            0,
            columnBlocks,
            () => new double[KBlock * ColumnBlock],
            (cb, _, wBuf) =>
            {
                int c0 = cb * ColumnBlock;
                int width = Math.Min(ColumnBlock, n - c0);
                for (int k0 = 0; k0 < k; k0 += KBlock)
                {
                    int depth = Math.Min(KBlock, k - k0);
                    for (int kk = 0; kk < depth; kk++)
                    {
                        ReadOnlySpan<Half> srcRow = w.AsSpan(((k0 + kk) * n) + c0, width);
                        Span<double> dstRow = wBuf.AsSpan(kk * width, width);
                        for (int j = 0; j < width; j++)
                        {
                            dstRow[j] = (double)srcRow[j];
                        }
                    }

                    for (int i = 0; i < m; i++)
                    {
                        // This column block of C is owned by this iteration only.
                        Span<double> cRow = c.AsSpan((i * n) + c0, width);
                        int aBase = (i * k) + k0;
                        for (int kk = 0; kk < depth; kk++)
                        {
                            AddScaled(cRow, wBuf.AsSpan(kk * width, width), aD[aBase + kk]);
                        }
                    }
                }

                return wBuf;
            },
            _ => { });
        return c;
    }

    private static void AddScaled(Span<double> acc, ReadOnlySpan<double> w, double a)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated && acc.Length >= Vector<double>.Count)
        {
            var av = new Vector<double>(a);
            for (; j <= acc.Length - Vector<double>.Count; j += Vector<double>.Count)
            {
                var accV = new Vector<double>(acc.Slice(j));
                var wV = new Vector<double>(w.Slice(j));
                (accV + (av * wV)).CopyTo(acc.Slice(j));
            }
        }

        for (; j < acc.Length; j++)
        {
            acc[j] += a * w[j];
        }
    }
}
