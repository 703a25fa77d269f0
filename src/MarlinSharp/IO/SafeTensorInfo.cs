namespace MarlinSharp.IO;

/// <summary>
/// One tensor of a safetensors file. <see cref="DataOffset"/> is absolute in the file (header already added).
/// </summary>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, long[] Shape, long DataOffset, long ByteLength)
{
    /// <summary>Product of <see cref="Shape"/> (1 for a scalar, 0 when any dimension is 0).</summary>
    public long ElementCount { get; } = ComputeElementCount(Shape);

    /// <summary>Shape as text, e.g. "[16, 512]".</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    private static long ComputeElementCount(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (long d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
        }

        if (Array.IndexOf(shape, 0L) >= 0)
        {
            return 0;
        }

        foreach (long d in shape)
        {
            count = checked(count * d);
        }

        return count;
    }
}
