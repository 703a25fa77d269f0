namespace MarlinSharp.Models.Engine;

/// <summary>
/// Batch sizes that decode steps are padded to so that a few captured CUDA graphs serve every batch size:
/// 1, 2, 4, 8, then multiples of 8, never more than the model's limit (which is itself always a bucket).
/// </summary>
public static class DecodeBuckets
{
    /// <summary>The bucket that a decode step of <paramref name="sequences"/> sequences runs as.</summary>
    public static int For(int sequences, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sequences, limit);
        int bucket = sequences <= 8 ? (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)sequences) : (sequences + 7) / 8 * 8;
        return Math.Min(bucket, limit);
    }

    /// <summary>Every bucket up to <paramref name="limit"/>, ascending.</summary>
    public static IReadOnlyList<int> All(int limit)
    {
        var list = new List<int>();
        for (int n = 1; n <= limit; n = For(n, limit) + 1)
            list.Add(For(n, limit));
        return list;
    }
}
