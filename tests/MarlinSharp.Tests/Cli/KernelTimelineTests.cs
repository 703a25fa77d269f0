using MarlinSharp.Cli.Engine;

namespace MarlinSharp.Tests.Cli;

/// <summary>The timeline probe's record layout, as marlin_stream.cu and llama_attention.cu write it, decoded on the host.</summary>
public class KernelTimelineTests
{
    [Fact]
    public void GemmRecordDecodesItsStampsTagAndPlace()
    {
        var rng = new Random(20261121);
        ulong origin = (ulong)rng.NextInt64(1L << 40, 1L << 50);
        ulong[] t = [origin + 17, origin + 940, origin + 12_416, origin + 13_792];
        uint epilogue = (uint)rng.Next(0, 4), warps = rng.Next(0, 2) == 0 ? 4u : 8u, gx = (uint)rng.Next(1, 9), gy = (uint)rng.Next(1, 400), rows = (uint)rng.Next(1, 17);
        uint bx = (uint)rng.Next(0, (int)gx), by = (uint)rng.Next(0, (int)gy), sm = (uint)rng.Next(0, 132);
        ulong tag = 1ul | (ulong)epilogue << 8 | (ulong)warps << 12 | (ulong)gx << 16 | (ulong)gy << 32 | (ulong)rows << 48;
        ulong where = (ulong)bx | (ulong)by << 16 | (ulong)sm << 32;
        // Word 7: the cluster barrier and the reduction's end as ns after entry (t[0]), low and high 32 bits.
        ulong offsets = (13_100ul - 17) | (13_500ul - 17) << 32;
        string row = KernelTimeline.CsvRow([t[0], t[1], t[2], t[3], tag, where, origin + 12_900, offsets], origin);
        Assert.Equal($"17,940,12416,13792,1,{epilogue},{warps},{gx},{gy},1,{rows},{bx},{by},0,{sm},12900,13100,13500", row);
        Assert.Equal(KernelTimeline.CsvHeader.Split(',').Length, row.Split(',').Length);
    }

    [Fact]
    public void AttentionRecordDecodesItsThreeDimensionalGrid()
    {
        ulong origin = 5_000_000;
        ulong tag = 2ul | 16ul << 16 | 32ul << 32 | 3ul << 48;
        ulong where = 7ul | 31ul << 16 | 100ul << 32 | 2ul << 48;
        string row = KernelTimeline.CsvRow([origin, 0, origin + 3_520, origin + 3_520, tag, where], origin);
        // An unstamped time (0) stays empty; attention has no epilogue, warps or rows, and a six-word record no last two stamps.
        Assert.Equal("0,,3520,3520,2,0,0,16,32,3,0,7,31,2,100,,,", row);
        Assert.Equal(KernelTimeline.CsvHeader.Split(',').Length, row.Split(',').Length);
        Assert.Equal(row, KernelTimeline.CsvRow([origin, 0, origin + 3_520, origin + 3_520, tag, where, 0, 0], origin));
    }

    [Fact]
    public void ShortRecordIsRejectedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => KernelTimeline.CsvRow(new ulong[5], 0));
        Assert.Equal("record", e.ParamName);
    }
}
