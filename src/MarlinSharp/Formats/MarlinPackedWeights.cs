namespace MarlinSharp.Formats;

/// <summary>
/// Weights in the reference Marlin format: <see cref="B"/> is int32 [k/16][2n] (eight 4-bit codes per word) and
/// <see cref="Scales"/> is fp16 [ScaleRows][n] in the permuted (packed) order.
/// The arrays are held, not copied.
/// </summary>
public sealed class MarlinPackedWeights
{
    /// <summary>Wraps packed arrays after checking their lengths against <paramref name="layout"/>.</summary>
    public MarlinPackedWeights(MarlinLayout layout, int[] b, Half[] scales)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(scales);
        if (b.LongLength != layout.PackedWordCount)
        {
            throw new ArgumentException(
                $"b must hold k*n/8 = {layout.PackedWordCount} int32 words ([{layout.PackedRows}][{layout.PackedColumns}]) for {layout}; got {b.LongLength}.",
                nameof(b));
        }

        if (scales.Length != layout.ScaleCount)
        {
            throw new ArgumentException(
                $"scales must hold ScaleRows*n = {layout.ScaleCount} values ([{layout.ScaleRows}][{layout.OutFeatures}]) for {layout}; got {scales.Length}.",
                nameof(scales));
        }

        Layout = layout;
        B = b;
        Scales = scales;
    }

    /// <summary>The layout these weights were packed for.</summary>
    public MarlinLayout Layout { get; }

    /// <summary>Packed codes, row-major [k/16][2n].</summary>
    public int[] B { get; }

    /// <summary>Packed (permuted) scales, row-major [ScaleRows][n].</summary>
    public Half[] Scales { get; }
}
