using MarlinSharp.Cuda;
using MarlinSharp.Kernels;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Kernels;

/// <summary>The column handoff's maps, counts and checks (no GPU).</summary>
public class StreamHandoffTests
{
    private static readonly DeviceSpan<uint> Flags64 = new(0x1000, 64);

    /// <summary>Increments per KV head, counted column by column over a QKV projection rather than chunk by chunk.</summary>
    private static int[] CountByColumns(int heads, int kvHeads, int headDim)
    {
        int n = (heads + 2 * kvHeads) * headDim, group = heads / kvHeads;
        var counts = new int[kvHeads];
        for (int chunk = 0; chunk < n / 64; chunk++)
        {
            var touched = new HashSet<(int Segment, int Head)>();
            for (int c = 64 * chunk; c < 64 * chunk + 64; c++)
            {
                int segment = c < heads * headDim ? 0 : c < (heads + kvHeads) * headDim ? 1 : 2;
                int head = segment == 0 ? c / (group * headDim) : (c - heads * headDim) / headDim % kvHeads;
                touched.Add((segment, head));
            }
            foreach (var (_, head) in touched) counts[head]++;
        }
        return counts;
    }

    [Theory]
    [InlineData(32, 32, 128, 6)]    // Llama-2-7B: q, k and v of a head are two chunks each
    [InlineData(32, 8, 128, 12)]    // Llama-3-8B: four query heads per KV head
    [InlineData(64, 8, 128, 20)]    // Llama-2-70B
    [InlineData(8, 4, 32, 3)]       // the committed tiny model: one chunk holds two heads' keys
    [InlineData(4, 2, 64, 4)]
    [InlineData(2, 2, 96, 6)]       // chunks straddle heads
    public void QkvMapGivesEveryKvHeadTheSameIncrements(int heads, int kvHeads, int headDim, int expected)
    {
        int n = (heads + 2 * kvHeads) * headDim;
        var map = StreamColumnSignal.ForQkv(new DeviceSpan<uint>(0x1000, kvHeads), heads, kvHeads, headDim);
        map.Validate(n);
        Assert.Equal(kvHeads, map.FlagCount(n));
        Assert.Equal(expected, map.IncrementsPerFlag(n));
        Assert.All(CountByColumns(heads, kvHeads, headDim), c => Assert.Equal(expected, c));
        var config = new LlamaConfig("llama", 4096, 11008, 2, heads, kvHeads, headDim, 32000, 1e-5, 10000.0, null, 4096, false, false, [], [], null);
        Assert.Equal(expected, DecodeHandoff.ReadyIncrements(config));
    }

    [Fact]
    public void ChunksOfTheLlama2QkvProjectionRaiseTheirOwnHead()
    {
        var map = StreamColumnSignal.ForQkv(Flags64, 32, 32, 128);
        Assert.Equal([0], map.FlagsOfChunk(0));
        Assert.Equal([0], map.FlagsOfChunk(1));
        Assert.Equal([5], map.FlagsOfChunk(10));
        Assert.Equal([0], map.FlagsOfChunk(64));     // first key chunk
        Assert.Equal([31], map.FlagsOfChunk(127));   // last key chunk
        Assert.Equal([0], map.FlagsOfChunk(128));    // first value chunk
        Assert.Equal([31], map.FlagsOfChunk(191));
    }

    [Fact]
    public void QkvProjectionWhoseChunksStraddleTheQueryBlockHasNoHandoff()
    {
        // 3 heads of 32: 96 query columns, so a chunk would hold queries and keys; n = 288 is not a multiple of 64 either.
        var config = new LlamaConfig("llama", 96, 256, 2, 3, 3, 32, 1000, 1e-5, 10000.0, null, 512, false, false, [], [], null);
        Assert.Null(DecodeHandoff.ReadyIncrements(config));
    }

    [Fact]
    public void BadSignalMapsAreRefusedNamingTheField()
    {
        Assert.Equal("Split", Assert.Throws<ArgumentOutOfRangeException>(() => new StreamColumnSignal(Flags64, 96, 64, 64, 4).Validate(512)).ParamName);
        Assert.Equal("Split", Assert.Throws<ArgumentOutOfRangeException>(() => new StreamColumnSignal(Flags64, 576, 64, 64, 4).Validate(512)).ParamName);
        Assert.Equal("ColumnsPerFlagBelow", Assert.Throws<ArgumentOutOfRangeException>(() => new StreamColumnSignal(Flags64, 256, 0, 64, 4).Validate(512)).ParamName);
        Assert.Equal("ColumnsPerFlagAbove", Assert.Throws<ArgumentOutOfRangeException>(() => new StreamColumnSignal(Flags64, 256, 64, 0, 4).Validate(512)).ParamName);
        Assert.Equal("FlagsAbove", Assert.Throws<ArgumentOutOfRangeException>(() => new StreamColumnSignal(Flags64, 256, 64, 64, 0).Validate(512)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => new StreamColumnSignal(Flags64, 0, 64, 64, 4).Validate(100)).ParamName);
        var tooFew = new StreamColumnSignal(new DeviceSpan<uint>(0x1000, 3), 256, 64, 64, 4);
        Assert.Contains("reach 4", Assert.Throws<ArgumentException>(() => tooFew.Validate(512)).Message);
        var misaligned = new StreamColumnSignal(new DeviceSpan<uint>(0x1002, 8), 256, 64, 64, 4);
        Assert.Equal("Flags", Assert.Throws<ArgumentException>(() => misaligned.Validate(512)).ParamName);
    }

    [Fact]
    public void BadWaitsAreRefusedNamingTheField()
    {
        var target = new DeviceSpan<uint>(0x2000, 1);
        new StreamColumnWait(Flags64, 128, target).Validate(4096);   // 32 flags
        Assert.Contains("need 33", Assert.Throws<ArgumentException>(() => new StreamColumnWait(new DeviceSpan<uint>(0x1000, 32), 128, target).Validate(4097)).Message);
        Assert.Equal("ColumnsPerFlag", Assert.Throws<ArgumentOutOfRangeException>(() => new StreamColumnWait(Flags64, 0, target).Validate(4096)).ParamName);
        Assert.Equal("Target", Assert.Throws<ArgumentException>(() => new StreamColumnWait(Flags64, 128, default).Validate(4096)).ParamName);
        Assert.Equal("Target", Assert.Throws<ArgumentException>(() => new StreamColumnWait(Flags64, 128, new DeviceSpan<uint>(0x2002, 1)).Validate(4096)).ParamName);
        Assert.Equal("Flags", Assert.Throws<ArgumentException>(() => new StreamColumnWait(new DeviceSpan<uint>(0x1002, 64), 128, target).Validate(4096)).ParamName);
    }

    [Fact]
    public void TheSwiGluEpilogueTakesNoSignal()
    {
        var config = MarlinStreamConfig.For(1, 128, 4, epilogue: StreamEpilogue.NormedSwiGlu);
        var signal = new StreamColumnSignal(Flags64, 0, 64, 64, 1);
        Assert.Equal("signal", Assert.Throws<ArgumentException>(() => MarlinGemm.ValidateHandoff(config, 4096, 512, null, signal)).ParamName);
        MarlinGemm.ValidateHandoff(MarlinStreamConfig.For(1, 128, 4, epilogue: StreamEpilogue.Normed), 4096, 512, null, signal);
    }

    [Fact]
    public void AttentionHandoffNeedsOneSplitAndAFlagPerKvHead()
    {
        var target = new DeviceSpan<uint>(0x2000, 1);
        var ok = new AttentionHandoff(new DeviceSpan<uint>(0x1000, 8), new DeviceSpan<uint>(0x3000, 8), target);
        ok.Validate(8, 1);
        Assert.Contains("one split", Assert.Throws<ArgumentException>(() => ok.Validate(8, 2)).Message);
        Assert.Equal("Ready", Assert.Throws<ArgumentException>(() => ok.Validate(9, 1)).ParamName);
        Assert.Equal("Done", Assert.Throws<ArgumentException>(() => (ok with { Done = new DeviceSpan<uint>(0x3000, 4) }).Validate(8, 1)).ParamName);
        Assert.Equal("ReadyTarget", Assert.Throws<ArgumentException>(() => (ok with { ReadyTarget = default }).Validate(8, 1)).ParamName);
    }

    [Fact]
    public void DeviceSpanCastReinterpretsWholeElements()
    {
        var ints = new DeviceSpan<int>(0x4000, 6);
        Assert.Equal(new DeviceSpan<uint>(0x4000, 6), ints.Cast<uint>());
        Assert.Equal(new DeviceSpan<long>(0x4000, 3), ints.Cast<long>());
        Assert.Throws<ArgumentException>(() => new DeviceSpan<int>(0x4000, 3).Cast<long>());
    }
}
