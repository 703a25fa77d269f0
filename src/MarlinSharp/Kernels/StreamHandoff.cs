using MarlinSharp.Cuda;

namespace MarlinSharp.Kernels;

/// <summary>
/// Makes a fused streamed GEMM (<see cref="MarlinGemm.MultiplyFused"/>) wait for its input columns group by group
/// instead of for the whole previous kernel: before it reads input columns [k0, k1), a CTA waits until every flag
/// <c>Flags[k / ColumnsPerFlag]</c> of that range has reached <c>Target[0]</c> (counting modulo 2³²). The
/// producer of the flags must itself wait for the grid before it (griddepcontrol.wait) before it exits; the GEMM
/// waits for the producer's grid after its main loop, before its epilogue. See the file comment of
/// <c>marlin_stream.cu</c>.
/// </summary>
/// <param name="Flags">Counters, one per group of <paramref name="ColumnsPerFlag"/> input columns.</param>
/// <param name="ColumnsPerFlag">Input columns per flag.</param>
/// <param name="Target">One counter value in device memory: what the flags reach once the launch's producer has run
/// (flags count up for ever, so this is the producer's running total, not its increments).</param>
public readonly record struct StreamColumnWait(DeviceSpan<uint> Flags, int ColumnsPerFlag, DeviceSpan<uint> Target)
{
    /// <summary>Checks the wait against a GEMM of <paramref name="k"/> input columns; no GPU needed.</summary>
    public void Validate(int k)
    {
        if (ColumnsPerFlag < 1)
            throw new ArgumentOutOfRangeException(nameof(ColumnsPerFlag), ColumnsPerFlag, "Expected at least one column per flag.");
        long flags = ((long)k + ColumnsPerFlag - 1) / ColumnsPerFlag;
        if (Flags.Length < flags)
            throw new ArgumentException($"Flags holds {Flags.Length} counters; {k} input columns at {ColumnsPerFlag} per flag need {flags}.", nameof(Flags));
        if (Flags.Pointer % 4 != 0) throw new ArgumentException("Flags must be 4-byte aligned.", nameof(Flags));
        if (Target.Length < 1) throw new ArgumentException("Target must hold one counter value.", nameof(Target));
        if (Target.Pointer % 4 != 0) throw new ArgumentException("Target must be 4-byte aligned.", nameof(Target));
    }
}

/// <summary>
/// Makes a fused streamed GEMM announce its output columns as they are written: once a 64-column chunk of C is
/// complete, 1 is added to the flag of every column group the chunk covers. Columns below <paramref name="Split"/>
/// belong to flag <c>c / ColumnsPerFlagBelow</c>; columns from <paramref name="Split"/> on to flag
/// <c>((c − Split) / ColumnsPerFlagAbove) mod FlagsAbove</c>. <see cref="ForQkv"/> builds the map of a fused QKV
/// projection, whose flags are then one per KV head.
/// </summary>
public readonly record struct StreamColumnSignal(DeviceSpan<uint> Flags, int Split, int ColumnsPerFlagBelow, int ColumnsPerFlagAbove, int FlagsAbove)
{
    /// <summary>Columns per chunk of the streamed kernel (one warp's share of n).</summary>
    public const int ChunkColumns = 64;

    /// <summary>
    /// The map of a fused QKV projection ([q heads | k heads | v heads] × <paramref name="headDim"/> columns) with one flag
    /// per KV head: the query columns of its group of heads, its key columns and its value columns.
    /// </summary>
    public static StreamColumnSignal ForQkv(DeviceSpan<uint> flags, int heads, int kvHeads, int headDim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(kvHeads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(headDim, 1);
        if (heads < 1 || heads % kvHeads != 0)
            throw new ArgumentException($"num_attention_heads ({heads}) must be a positive multiple of num_key_value_heads ({kvHeads}).", nameof(heads));
        return new StreamColumnSignal(flags, heads * headDim, heads / kvHeads * headDim, headDim, kvHeads);
    }

    /// <summary>The flags (with repeats, in the kernel's order) that the chunk of columns [64·chunk, 64·chunk + 64) adds 1 to.</summary>
    public IEnumerable<int> FlagsOfChunk(int chunk)
    {
        int c0 = chunk * ChunkColumns, c1 = c0 + ChunkColumns - 1;
        bool above = c0 >= Split;
        int width = above ? ColumnsPerFlagAbove : ColumnsPerFlagBelow, from = above ? Split : 0;
        for (int f = (c0 - from) / width; f <= (c1 - from) / width; f++) yield return above ? f % FlagsAbove : f;
    }

    /// <summary>
    /// How many increments each flag receives from one launch over <paramref name="n"/> output columns, when every flag
    /// receives the same number (what a waiting kernel can count on); null otherwise.
    /// </summary>
    public int? IncrementsPerFlag(int n)
    {
        ValidateMap(n);
        var counts = new int[FlagCount(n)];
        for (int chunk = 0; chunk < n / ChunkColumns; chunk++)
            foreach (int f in FlagsOfChunk(chunk)) counts[f]++;
        return counts.Length > 0 && counts.All(x => x == counts[0]) && counts[0] > 0 ? counts[0] : null;
    }

    /// <summary>Flags the map reaches over <paramref name="n"/> columns.</summary>
    public int FlagCount(int n) => Split >= n ? (n - 1) / ColumnsPerFlagBelow + 1
        : Math.Max(Split == 0 ? 0 : (Split - 1) / ColumnsPerFlagBelow + 1, Math.Min(FlagsAbove, (n - Split - 1) / ColumnsPerFlagAbove + 1));

    /// <summary>Checks the map and the flags against a GEMM of <paramref name="n"/> output columns; no GPU needed.</summary>
    public void Validate(int n)
    {
        ValidateMap(n);
        int flags = FlagCount(n);
        if (Flags.Length < flags)
            throw new ArgumentException($"Flags holds {Flags.Length} counters; {n} output columns under this map reach {flags}.", nameof(Flags));
        if (Flags.Pointer % 4 != 0) throw new ArgumentException("Flags must be 4-byte aligned.", nameof(Flags));
    }

    private void ValidateMap(int n)
    {
        if (n < ChunkColumns || n % ChunkColumns != 0)
            throw new ArgumentOutOfRangeException(nameof(n), n, $"Expected a positive multiple of {ChunkColumns} output columns.");
        if (Split < 0 || Split > n || Split % ChunkColumns != 0)
            throw new ArgumentOutOfRangeException(nameof(Split), Split, $"Expected a multiple of {ChunkColumns} in [0, {n}], so that no chunk straddles it.");
        if (ColumnsPerFlagBelow < 1)
            throw new ArgumentOutOfRangeException(nameof(ColumnsPerFlagBelow), ColumnsPerFlagBelow, "Expected at least one column per flag.");
        if (ColumnsPerFlagAbove < 1)
            throw new ArgumentOutOfRangeException(nameof(ColumnsPerFlagAbove), ColumnsPerFlagAbove, "Expected at least one column per flag.");
        if (FlagsAbove < 1)
            throw new ArgumentOutOfRangeException(nameof(FlagsAbove), FlagsAbove, "Expected at least one flag for the columns from Split on.");
    }
}
