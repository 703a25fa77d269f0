namespace MarlinSharp.Models.Engine;

/// <summary>How the decode attention kernel cuts the KV cache into splits (one block per sequence, KV head and split).</summary>
internal static class AttentionPlan
{
    /// <summary>Upper bound on splits; sizes the partial-result workspace.</summary>
    public const int MaxSplits = 32;

    /// <summary>Keys per decode tile (must match att::d_kt in llama_attention.cu).</summary>
    public static int DecodeTileKeys(int headDim) => 32 * (headDim <= 128 ? 4 : 2);

    /// <summary>
    /// Enough splits that the grid has about two blocks per SM, but no split shorter than one tile and no more than
    /// <see cref="MaxSplits"/>. Returns keys per split (a multiple of the tile) and the split count.
    /// </summary>
    public static (int Splits, int KeysPerSplit) Decode(int sequences, int kvHeads, int longestContext, int headDim, int multiprocessors)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kvHeads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(longestContext, 1);
        int tile = DecodeTileKeys(headDim);
        int tiles = (longestContext + tile - 1) / tile;
        long blocks = (long)sequences * kvHeads;
        int wanted = (int)Math.Max(1, (2L * Math.Max(1, multiprocessors) + blocks - 1) / blocks);
        int splits = Math.Clamp(wanted, 1, Math.Min(tiles, MaxSplits));
        int tilesPerSplit = (tiles + splits - 1) / splits;
        splits = (tiles + tilesPerSplit - 1) / tilesPerSplit;
        return (splits, tilesPerSplit * tile);
    }

    /// <summary>Checks the head shape the attention kernels support; throws NotSupportedException naming the limit.</summary>
    public static void ValidateHeads(int heads, int kvHeads, int headDim)
    {
        if (headDim % 32 != 0 || headDim > 256)
            throw new NotSupportedException($"head_dim {headDim} is not supported by the attention kernels (a multiple of 32, at most 256).");
        if (kvHeads < 1 || heads % kvHeads != 0)
            throw new NotSupportedException($"num_attention_heads ({heads}) must be a multiple of num_key_value_heads ({kvHeads}).");
        int group = heads / kvHeads;
        if (group > 16 || group * headDim > 2048)
            throw new NotSupportedException($"{group} query heads per KV head with head_dim {headDim} exceeds the decode kernel's limits (at most 16 query heads per KV head, group × head_dim ≤ 2048).");
    }
}
