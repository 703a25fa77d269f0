namespace MarlinSharp.Kernels;

/// <summary>
/// Host mirror of the kernel's work partition: the (n/TileN column tiles) × (k/TileK k tiles) space, walked
/// column by column, cut into <see cref="Ctas"/> contiguous stripes. The kernel computes the same numbers
/// with 32-bit arithmetic; this class chooses the grid, checks that arithmetic cannot overflow, and sizes
/// the workspace. It is also what CPU tests use to prove that the stripes cover every tile exactly once.
/// </summary>
public sealed class StripePlan
{
    public StripePlan(int n, int k, int tileN, int tileK, int maxCtas)
    {
        if (n <= 0 || n % tileN != 0) throw new ArgumentException($"n={n} must be a positive multiple of the tile width {tileN}.", nameof(n));
        if (k <= 0 || k % tileK != 0) throw new ArgumentException($"k={k} must be a positive multiple of the tile depth {tileK}.", nameof(k));
        if (maxCtas <= 0) throw new ArgumentOutOfRangeException(nameof(maxCtas), maxCtas, "Expected at least one CTA.");
        ColumnTiles = n / tileN;
        KTiles = k / tileK;
        long total = (long)ColumnTiles * KTiles;
        Ctas = (int)Math.Min(maxCtas, total);
        if ((total + 1) * Ctas >= 1L << 32)
            throw new ArgumentException($"The problem has {total} tiles of {tileK}x{tileN}; the kernel's 32-bit stripe arithmetic supports fewer than {(1L << 32) / Ctas - 1} with {Ctas} CTAs.", nameof(n));
        TotalTiles = (int)total;
    }

    public int ColumnTiles { get; }
    public int KTiles { get; }
    public int TotalTiles { get; }
    public int Ctas { get; }

    /// <summary>First tile of CTA <paramref name="cta"/>; CTA i owns [FirstTile(i), FirstTile(i+1)).</summary>
    public int FirstTile(int cta) => (int)((uint)cta * (uint)TotalTiles / (uint)Ctas);

    /// <summary>The CTA whose stripe contains <paramref name="tile"/>.</summary>
    public int OwnerOf(int tile) => (int)((((uint)tile + 1) * (uint)Ctas + (uint)TotalTiles - 1) / (uint)TotalTiles - 1);

    /// <summary>How many CTAs contribute to column tile <paramref name="column"/>.</summary>
    public int ContributorsOf(int column) => OwnerOf((column + 1) * KTiles - 1) - OwnerOf(column * KTiles) + 1;

    /// <summary>Bytes of the FP32 partial-sum workspace: two slots per CTA.</summary>
    public long WorkspaceBytes(MarlinKernelConfig config) => WorkspaceBytes(config.PartialFloats);

    /// <summary>Bytes of the FP32 partial-sum workspace for slots of <paramref name="partialFloats"/> floats: two slots per CTA.</summary>
    public long WorkspaceBytes(int partialFloats) => 2L * Ctas * partialFloats * sizeof(float);
}
