using MarlinSharp.Cuda;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

/// <summary>LlamaKernels.AttentionDecodeRope checks every argument before launching (no GPU needed: the checks are static).</summary>
public class DecodeRopeValidationTests
{
    // head_dim 128, 8 query heads over 2 KV heads (group 4), 3 sequences of up to 300 positions, 132 SMs.
    private const int D = 128, Group = 4, QHeads = 8, KvH = 2, Seqs = 3, Context = 300, Sms = 132;
    private static readonly (int Layers, int KvHeads, int HeadDim, int MaxContext) Cache = (2, KvH, D, 512);
    private static readonly int Splits = AttentionPlan.Decode(Seqs, KvH, Context, D, Sms).Splits;

    private sealed record Args
    {
        public DeviceSpan<Half> Qkv { get; init; } = new(0x10000, Seqs * (QHeads + 2 * KvH) * D);
        public DeviceSpan<Half> Output { get; init; } = new(0x20000, Seqs * QHeads * D);
        public DeviceSpan<int> SeqInfo { get; init; } = new(0x30000, 4 * Seqs);
        public DeviceSpan<int> Positions { get; init; } = new(0x40000, Seqs);
        public DeviceSpan<int> Slots { get; init; } = new(0x50000, Seqs);
        public DeviceSpan<float> Cos { get; init; } = new(0x60000, Context * D / 2);
        public DeviceSpan<float> Sin { get; init; } = new(0x70000, Context * D / 2);
        public DeviceSpan<float> PartO { get; init; } = new(0x80000, Seqs * QHeads * Splits * D);
        public DeviceSpan<float> PartMl { get; init; } = new(0x90000, Seqs * QHeads * Splits * 2);
        public (int Layers, int KvHeads, int HeadDim, int MaxContext) Cache { get; init; } = DecodeRopeValidationTests.Cache;
        public int Sequences { get; init; } = Seqs;
        public int LongestContext { get; init; } = Context;
        public int Heads { get; init; } = QHeads;
        public int KvHeads { get; init; } = KvH;
        public int Layer { get; init; } = 1;
        public LlamaKernels.ResidualNorm? Norm { get; init; }

        public (int, int) Validate() => LlamaKernels.ValidateDecodeRope(D, Group, Sms, Cache, Qkv, Output, SeqInfo, Positions, Slots, Cos, Sin,
            Sequences, LongestContext, Heads, KvHeads, Layer, PartO, PartMl, Norm);
    }

    [Fact]
    public void ExactlySizedArgumentsPassAndReturnTheDecodePlan()
    {
        Assert.True(Splits > 1, "the shape should need the split workspace");
        Assert.Equal(AttentionPlan.Decode(Seqs, KvH, Context, D, Sms), new Args().Validate());
    }

    [Fact]
    public void OneSplitNeedsNoWorkspace()
    {
        var args = new Args { LongestContext = 100, PartO = default, PartMl = default };
        Assert.Equal(1, AttentionPlan.Decode(Seqs, KvH, 100, D, Sms).Splits);
        args.Validate();
    }

    public static TheoryData<string, string> BadArguments() => new()
    {
        { "qkv", "ArgumentException" },
        { "output", "ArgumentException" },
        { "seqInfo", "ArgumentException" },
        { "positions", "ArgumentException" },
        { "slots", "ArgumentException" },
        { "cos", "ArgumentException" },
        { "sin", "ArgumentException" },
        { "partO", "ArgumentException" },
        { "partMl", "ArgumentException" },
        { "cache", "ArgumentException" },
        { "heads", "ArgumentException" },
        { "kvHeads", "ArgumentOutOfRangeException" },
        { "sequences", "ArgumentOutOfRangeException" },
        { "longestContext", "ArgumentOutOfRangeException" },
        { "layer", "ArgumentOutOfRangeException" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void EachBadArgumentIsNamed(string parameter, string exception)
    {
        var ok = new Args();
        var bad = parameter switch
        {
            "qkv" => ok with { Qkv = ok.Qkv.Slice(0, ok.Qkv.Length - 1) },
            "output" => ok with { Output = ok.Output.Slice(0, ok.Output.Length - 1) },
            "seqInfo" => ok with { SeqInfo = ok.SeqInfo.Slice(0, 4 * Seqs - 1) },
            "positions" => ok with { Positions = ok.Positions.Slice(0, Seqs - 1) },
            "slots" => ok with { Slots = ok.Slots.Slice(0, Seqs - 1) },
            "cos" => ok with { Cos = ok.Cos.Slice(0, (Context - 1) * D / 2), Sin = ok.Sin.Slice(0, (Context - 1) * D / 2) },  // too few positions
            "sin" => ok with { Sin = ok.Sin.Slice(0, ok.Sin.Length - 1) },                                                      // not [positions][head_dim/2]
            "partO" => ok with { PartO = ok.PartO.Slice(0, ok.PartO.Length - 1) },
            "partMl" => ok with { PartMl = ok.PartMl.Slice(0, ok.PartMl.Length - 1) },
            "cache" => ok with { Cache = (2, KvH, 64, 512) },
            "heads" => ok with { Heads = 6 },
            "kvHeads" => ok with { KvHeads = 0, Heads = 0 },
            "sequences" => ok with { Sequences = 0 },
            "longestContext" => ok with { LongestContext = Cache.MaxContext + 1 },
            "layer" => ok with { Layer = Cache.Layers },
            _ => throw new ArgumentOutOfRangeException(nameof(parameter)),
        };
        var e = Assert.ThrowsAny<ArgumentException>(() => bad.Validate());
        Assert.Equal(exception, e.GetType().Name);
        Assert.Equal(parameter, e.ParamName);
    }

    private const int Hidden = QHeads * D;

    [Fact]
    public void AResidualNormOfWholeRowsPasses()
    {
        var norm = new LlamaKernels.ResidualNorm(new DeviceSpan<Half>(0xA0000, Seqs * Hidden), Hidden, 1e-5f);
        Assert.Equal(new Args().Validate(), new Args { Norm = norm }.Validate());
    }

    [Theory]
    [InlineData("short", "residual")]
    [InlineData("misaligned", "residual")]
    [InlineData("epsilon", "norm")]
    public void ABadResidualNormIsNamed(string fault, string parameter)
    {
        var rows = new DeviceSpan<Half>(0xA0000, Seqs * Hidden);
        var norm = fault switch
        {
            "short" => new LlamaKernels.ResidualNorm(rows.Slice(0, rows.Length - 1), Hidden, 1e-5f),
            "misaligned" => new LlamaKernels.ResidualNorm(new DeviceSpan<Half>(0xA0002, Seqs * Hidden), Hidden, 1e-5f),
            _ => new LlamaKernels.ResidualNorm(rows, Hidden, 0f),
        };
        var e = Assert.ThrowsAny<ArgumentException>(() => new Args { Norm = norm }.Validate());
        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void AResidualWidthTheKernelCannotReadIsRefused()
    {
        var norm = new LlamaKernels.ResidualNorm(new DeviceSpan<Half>(0xA0000, Seqs * 1028), 1028, 1e-5f);
        Assert.Throws<NotSupportedException>(() => new Args { Norm = norm }.Validate());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ContextMustBePositive(int context)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Args { LongestContext = context }.Validate());
        Assert.Equal("longestContext", e.ParamName);
    }
}
