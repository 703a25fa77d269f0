namespace MarlinSharp.Formats;

/// <summary>
/// Shape and grouping of one Marlin-packed 4-bit weight matrix W[k][n]
/// (k = input features, n = output features, g = scale group size along k).
/// </summary>
/// <remarks>
/// Requirements (checked in the constructor): k &gt; 0 and k % 128 == 0; n &gt; 0 and n % 64 == 0;
/// g ∈ {32, 64, 128, -1} (−1 = one scale per output channel) and k % g == 0.
/// When g == k (for example k = 128, g = 128) there is a single scale row; the reference treats this exactly
/// like per-channel scales (per-channel scale permutation, per-channel kernel path), so <see cref="IsPerChannel"/> is true.
/// Properties are get-only so that a <c>with</c> expression cannot bypass the validation.
/// </remarks>
public sealed record MarlinLayout
{
    /// <summary>Tile edge (16×16 tiles of codes).</summary>
    public const int TileSize = 16;

    /// <summary>Required divisor of k.</summary>
    public const int KAlignment = 128;

    /// <summary>Required divisor of n (one permutation chunk covers 64 columns of a 16-row band).</summary>
    public const int NAlignment = 64;

    private static readonly int[] s_supportedGroupSizes = [-1, 32, 64, 128];

    /// <summary>Creates and validates a layout.</summary>
    /// <param name="inFeatures">k, the number of input features (rows of W[k][n]).</param>
    /// <param name="outFeatures">n, the number of output features (columns of W[k][n]).</param>
    /// <param name="groupSize">g: 32, 64, 128, or -1 for one scale per output channel.</param>
    public MarlinLayout(int inFeatures, int outFeatures, int groupSize)
    {
        if (Array.IndexOf(s_supportedGroupSizes, groupSize) < 0)
        {
            throw new ArgumentException(
                $"groupSize must be one of 32, 64, 128 or -1 (per output channel); got {groupSize}.", nameof(groupSize));
        }

        if (inFeatures <= 0 || inFeatures % KAlignment != 0)
        {
            throw new ArgumentException(
                $"inFeatures (k) must be a positive multiple of {KAlignment}; got {inFeatures}.", nameof(inFeatures));
        }

        if (groupSize > 0 && inFeatures % groupSize != 0)
        {
            throw new ArgumentException(
                $"inFeatures (k = {inFeatures}) must be a multiple of groupSize ({groupSize}).", nameof(inFeatures));
        }

        if (outFeatures <= 0 || outFeatures % NAlignment != 0)
        {
            throw new ArgumentException(
                $"outFeatures (n) must be a positive multiple of {NAlignment}; got {outFeatures}.", nameof(outFeatures));
        }

        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        GroupSize = groupSize;
        EffectiveGroupSize = groupSize == -1 ? inFeatures : groupSize;
        ScaleRows = inFeatures / EffectiveGroupSize;
    }

    /// <summary>k: input features, rows of the logical weight W[k][n].</summary>
    public int InFeatures { get; }

    /// <summary>n: output features, columns of the logical weight W[k][n].</summary>
    public int OutFeatures { get; }

    /// <summary>g as given: 32, 64, 128 or -1 (per output channel).</summary>
    public int GroupSize { get; }

    /// <summary>Rows of the scale matrix: k / g, or 1 for per-channel scales.</summary>
    public int ScaleRows { get; }

    /// <summary>g, or k for per-channel scales.</summary>
    public int EffectiveGroupSize { get; }

    /// <summary>
    /// True when there is one scale row (g == -1, or g == k). Such scales use the per-channel scale permutation
    /// and the kernel's per-channel path, exactly as in the reference.
    /// </summary>
    public bool IsPerChannel => ScaleRows == 1;

    /// <summary>Number of int32 words of the packed weights: k·n/8 (shape [k/16][2n]).</summary>
    public long PackedWordCount => (long)InFeatures * OutFeatures / 8;

    /// <summary>Number of 4-bit codes: k·n.</summary>
    public long CodeCount => (long)InFeatures * OutFeatures;

    /// <summary>Number of scales: ScaleRows·n.</summary>
    public int ScaleCount => ScaleRows * OutFeatures;

    /// <summary>Rows of the packed weight matrix: k/16.</summary>
    public int PackedRows => InFeatures / TileSize;

    /// <summary>Columns (int32 words) of the packed weight matrix: 2n.</summary>
    public int PackedColumns => OutFeatures * 2;

    /// <summary>
    /// True when the reference packer produces this format (g = 128 or -1). Group sizes 32 and 64 are a MarlinSharp
    /// extension: B is packed identically, scales use the grouped scale permutation.
    /// </summary>
    public bool HasReferenceFormat => GroupSize is 128 or -1;

    /// <summary>The supported group sizes: -1, 32, 64, 128.</summary>
    public static IReadOnlyList<int> SupportedGroupSizes { get; } = Array.AsReadOnly(s_supportedGroupSizes);

    /// <inheritdoc/>
    public override string ToString() => $"MarlinLayout(k={InFeatures}, n={OutFeatures}, g={GroupSize})";
}
