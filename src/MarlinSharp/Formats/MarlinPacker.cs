using System.Runtime.CompilerServices;

namespace MarlinSharp.Formats;

/// <summary>
/// Converts 4-bit codes and fp16 scales to and from the reference Marlin weight format, byte for byte.
/// </summary>
/// <remarks>
/// Format: the codes q[k][n] are cut into 16-row bands; each band is laid out 16×16 tile by tile along n
/// (each tile row-major), every 1024 codes (4 tiles) are reordered by a fixed permutation, and each run of 8 codes
/// becomes one int32 word (code i in bits 4i..4i+3). Scales are permuted in chunks of 64 (grouped) or 32 (one scale row).
/// </remarks>
public static class MarlinPacker
{
    /// <summary>Codes per permutation chunk (four 16×16 tiles).</summary>
    internal const int ChunkCodes = 1024;

    /// <summary>The 1024-entry weight permutation: packed position i takes chunk code <c>WeightPermutation[i]</c>.</summary>
    internal static readonly int[] WeightPermutation = BuildWeightPermutation();

    /// <summary>Scale permutation for grouped scales (chunks of 64).</summary>
    internal static readonly int[] GroupedScalePermutation = BuildGroupedScalePermutation();

    /// <summary>Scale permutation for a single scale row (chunks of 32).</summary>
    internal static readonly int[] PerChannelScalePermutation = BuildPerChannelScalePermutation();

    /// <summary>Packs codes q[k][n] (values 0..15) and natural-order scales [ScaleRows][n].</summary>
    /// <exception cref="ArgumentException">Length mismatch, a code above 15, or a NaN, infinite or negative scale.</exception>
    public static MarlinPackedWeights Pack(ReadOnlySpan<byte> codes, ReadOnlySpan<Half> scales, MarlinLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ValidateCodes(codes, layout, nameof(codes));
        ValidateScales(scales, layout, nameof(scales), requirePositive: false);
        var b = new int[layout.PackedWordCount];
        PackCodesInto(codes, b, layout);
        return new MarlinPackedWeights(layout, b, PackScales(scales, layout));
    }

    /// <summary>
    /// Packs fake-quantized fp16 weights w[k][n] (values (q−8)·s rounded to fp16) with natural-order scales.
    /// Codes are recovered as q = clamp(round_half_even(fp16(w/s)) + 8, 0, 15), the quotient rounded to fp16 as the
    /// reference (PyTorch half division) does.
    /// </summary>
    /// <exception cref="ArgumentException">Length mismatch, NaN/infinite weights, or scales that are not finite and positive.</exception>
    public static MarlinPackedWeights PackFakeQuantized(ReadOnlySpan<Half> weights, ReadOnlySpan<Half> scales, MarlinLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (weights.Length != layout.CodeCount)
        {
            throw new ArgumentException(
                $"weights must hold k*n = {layout.CodeCount} values ([{layout.InFeatures}][{layout.OutFeatures}]) for {layout}; got {weights.Length}.",
                nameof(weights));
        }

        ValidateScales(scales, layout, nameof(scales), requirePositive: true);
        var codes = new byte[weights.Length];
        QuantizeWithScales(weights, scales, layout, codes, nameof(weights));
        var b = new int[layout.PackedWordCount];
        PackCodesInto(codes, b, layout);
        return new MarlinPackedWeights(layout, b, PackScales(scales, layout));
    }

    /// <summary>Inverse of <see cref="Pack"/>: natural-order codes [k][n] and scales [ScaleRows][n].</summary>
    public static (byte[] Codes, Half[] Scales) Unpack(MarlinPackedWeights packed)
    {
        ArgumentNullException.ThrowIfNull(packed);
        MarlinLayout layout = packed.Layout;
        var codes = new byte[layout.CodeCount];
        UnpackCodesInto(packed.B, codes, layout);
        return (codes, UnpackScales(packed.Scales, layout));
    }

    /// <summary>Permutes natural-order scales [ScaleRows][n] into the packed order.</summary>
    public static Half[] PackScales(ReadOnlySpan<Half> scales, MarlinLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        CheckScaleLength(scales.Length, layout, nameof(scales));
        int[] perm = layout.IsPerChannel ? PerChannelScalePermutation : GroupedScalePermutation;
        var result = new Half[scales.Length];
        for (int start = 0; start < scales.Length; start += perm.Length)
        {
            ReadOnlySpan<Half> src = scales.Slice(start, perm.Length);
            Span<Half> dst = result.AsSpan(start, perm.Length);
            for (int i = 0; i < perm.Length; i++)
            {
                dst[i] = src[perm[i]];
            }
        }

        return result;
    }

    /// <summary>Inverse of <see cref="PackScales"/>: packed-order scales back to natural order [ScaleRows][n].</summary>
    public static Half[] UnpackScales(ReadOnlySpan<Half> packedScales, MarlinLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        CheckScaleLength(packedScales.Length, layout, nameof(packedScales));
        int[] perm = layout.IsPerChannel ? PerChannelScalePermutation : GroupedScalePermutation;
        var result = new Half[packedScales.Length];
        for (int start = 0; start < packedScales.Length; start += perm.Length)
        {
            ReadOnlySpan<Half> src = packedScales.Slice(start, perm.Length);
            Span<Half> dst = result.AsSpan(start, perm.Length);
            for (int i = 0; i < perm.Length; i++)
            {
                dst[perm[i]] = src[i];
            }
        }

        return result;
    }

    // ---------------------------------------------------------------- internals

    internal static void ValidateCodes(ReadOnlySpan<byte> codes, MarlinLayout layout, string paramName)
    {
        if (codes.Length != layout.CodeCount)
        {
            throw new ArgumentException(
                $"{paramName} must hold k*n = {layout.CodeCount} codes ([{layout.InFeatures}][{layout.OutFeatures}]) for {layout}; got {codes.Length}.",
                paramName);
        }

        int bad = codes.IndexOfAnyInRange((byte)16, (byte)255);
        if (bad >= 0)
        {
            throw new ArgumentException(
                $"{paramName}[{bad / layout.OutFeatures}][{bad % layout.OutFeatures}] = {codes[bad]} is not a 4-bit code (0..15).",
                paramName);
        }
    }

    internal static void ValidateScales(ReadOnlySpan<Half> scales, MarlinLayout layout, string paramName, bool requirePositive)
    {
        CheckScaleLength(scales.Length, layout, paramName);
        for (int i = 0; i < scales.Length; i++)
        {
            float s = (float)scales[i];
            bool ok = requirePositive ? s > 0f && float.IsFinite(s) : s >= 0f && float.IsFinite(s);
            if (!ok)
            {
                throw new ArgumentException(
                    $"{paramName}[{i / layout.OutFeatures}][{i % layout.OutFeatures}] = {s} is not a valid scale (must be finite and {(requirePositive ? "> 0" : ">= 0")}).",
                    paramName);
            }
        }
    }

    private static void CheckScaleLength(int length, MarlinLayout layout, string paramName)
    {
        if (length != layout.ScaleCount)
        {
            throw new ArgumentException(
                $"{paramName} must hold ScaleRows*n = {layout.ScaleCount} values ([{layout.ScaleRows}][{layout.OutFeatures}]) for {layout}; got {length}.",
                paramName);
        }
    }

    /// <summary>
    /// q = clamp(round_half_even(fp16(w/s)) + 8, 0, 15) for every element; scales are natural order [ScaleRows][n] and
    /// already validated. Throws for NaN or infinite weights.
    /// </summary>
    internal static void QuantizeWithScales(ReadOnlySpan<Half> weights, ReadOnlySpan<Half> scales, MarlinLayout layout, Span<byte> codes, string paramName)
    {
        int n = layout.OutFeatures;
        int g = layout.EffectiveGroupSize;
        int k = layout.InFeatures;
        for (int row = 0; row < k; row++)
        {
            ReadOnlySpan<Half> w = weights.Slice(row * n, n);
            ReadOnlySpan<Half> s = scales.Slice(row / g * n, n);
            Span<byte> q = codes.Slice(row * n, n);
            for (int col = 0; col < n; col++)
            {
                float wv = (float)w[col];
                if (!float.IsFinite(wv))
                {
                    throw new ArgumentException($"{paramName}[{row}][{col}] = {wv} is not finite.", paramName);
                }

                q[col] = QuantizeOne(wv, (float)s[col]);
            }
        }
    }

    /// <summary>One code: the fp16 quotient (float division then rounding to fp16 is exact fp16 division), rounded half to even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte QuantizeOne(float w, float s)
    {
        float quotient = (float)(Half)(w / s);
        float r = MathF.Round(quotient, MidpointRounding.ToEven) + 8f;
        return (byte)Math.Clamp(r, 0f, 15f);
    }

    /// <summary>For the given n: offset in q (relative to the chunk's top-left code) of each of the 1024 packed positions.</summary>
    private static int[] SourceOffsets(int n)
    {
        var offsets = new int[ChunkCodes];
        for (int i = 0; i < ChunkCodes; i++)
        {
            int p = WeightPermutation[i];
            int tile = p >> 8;
            int row = (p >> 4) & 15;
            int col = p & 15;
            offsets[i] = row * n + tile * 16 + col;
        }

        return offsets;
    }

    internal static unsafe void PackCodesInto(ReadOnlySpan<byte> codes, Span<int> b, MarlinLayout layout)
    {
        int n = layout.OutFeatures;
        int bands = layout.PackedRows;
        int chunks = n / 64;
        int[] offsets = SourceOffsets(n);
        fixed (byte* pCodes = codes)
        fixed (int* pB = b)
        fixed (int* pOff = offsets)
        {
            nint codesAddr = (nint)pCodes;
            nint bAddr = (nint)pB;
            nint offAddr = (nint)pOff;
            Parallel.For(0, bands, kb =>
            {
                byte* src = (byte*)codesAddr + (long)kb * 16 * n;
                int* dst = (int*)bAddr + (long)kb * 2 * n;
                int* off = (int*)offAddr;
                for (int c = 0; c < chunks; c++)
                {
                    byte* cs = src + c * 64;
                    int* cd = dst + c * 128;
                    int* o = off;
                    for (int w = 0; w < 128; w++, o += 8)
                    {
                        uint v = cs[o[0]]
                            | ((uint)cs[o[1]] << 4)
                            | ((uint)cs[o[2]] << 8)
                            | ((uint)cs[o[3]] << 12)
                            | ((uint)cs[o[4]] << 16)
                            | ((uint)cs[o[5]] << 20)
                            | ((uint)cs[o[6]] << 24)
                            | ((uint)cs[o[7]] << 28);
                        cd[w] = (int)v;
                    }
                }
            });
        }
    }

    internal static unsafe void UnpackCodesInto(ReadOnlySpan<int> b, Span<byte> codes, MarlinLayout layout)
    {
        int n = layout.OutFeatures;
        int bands = layout.PackedRows;
        int chunks = n / 64;
        int[] offsets = SourceOffsets(n);
        fixed (byte* pCodes = codes)
        fixed (int* pB = b)
        fixed (int* pOff = offsets)
        {
            nint codesAddr = (nint)pCodes;
            nint bAddr = (nint)pB;
            nint offAddr = (nint)pOff;
            Parallel.For(0, bands, kb =>
            {
                byte* dst = (byte*)codesAddr + (long)kb * 16 * n;
                int* src = (int*)bAddr + (long)kb * 2 * n;
                int* off = (int*)offAddr;
                for (int c = 0; c < chunks; c++)
                {
                    byte* cd = dst + c * 64;
                    int* cs = src + c * 128;
                    int* o = off;
                    for (int w = 0; w < 128; w++, o += 8)
                    {
                        uint v = (uint)cs[w];
                        for (int i = 0; i < 8; i++)
                        {
                            cd[o[i]] = (byte)((v >> (4 * i)) & 15);
                        }
                    }
                }
            });
        }
    }

    private static int[] BuildWeightPermutation()
    {
        var perm = new int[ChunkCodes];
        Span<int> offsets = stackalloc int[8];
        int pos = 0;
        for (int t = 0; t < 32; t++)
        {
            int col = t / 4;
            int idx = 0;
            for (int block = 0; block < 2; block++)
            {
                int r0 = 2 * (t % 4);
                int r1 = 2 * (t % 4 + 4);
                offsets[idx++] = 16 * r0 + col + 8 * block;
                offsets[idx++] = 16 * (r0 + 1) + col + 8 * block;
                offsets[idx++] = 16 * r1 + col + 8 * block;
                offsets[idx++] = 16 * (r1 + 1) + col + 8 * block;
            }

            for (int j = 0; j < 4; j++)
            {
                for (int e = 0; e < 8; e++)
                {
                    perm[pos++] = offsets[e] + 256 * j;
                }
            }
        }

        // Interleave inside each run of eight: (0, 2, 4, 6, 1, 3, 5, 7).
        ReadOnlySpan<int> interleave = [0, 2, 4, 6, 1, 3, 5, 7];
        Span<int> run = stackalloc int[8];
        for (int start = 0; start < ChunkCodes; start += 8)
        {
            perm.AsSpan(start, 8).CopyTo(run);
            for (int e = 0; e < 8; e++)
            {
                perm[start + e] = run[interleave[e]];
            }
        }

        return perm;
    }

    private static int[] BuildGroupedScalePermutation()
    {
        var perm = new int[64];
        int pos = 0;
        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < 8; j++)
            {
                perm[pos++] = i + 8 * j;
            }
        }

        return perm;
    }

    private static int[] BuildPerChannelScalePermutation()
    {
        ReadOnlySpan<int> js = [0, 1, 8, 9, 16, 17, 24, 25];
        var perm = new int[32];
        int pos = 0;
        for (int i = 0; i < 4; i++)
        {
            foreach (int j in js)
            {
                perm[pos++] = 2 * i + j;
            }
        }

        return perm;
    }
}
