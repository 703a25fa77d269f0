using MarlinSharp.Formats;
using MarlinSharp.Quantization;

namespace MarlinSharp.Tests.Formats;

/// <summary>Every bad input throws an ArgumentException (or subclass) whose ParamName names the culprit.</summary>
public class ArgumentValidationTests
{
    private static readonly MarlinLayout L = new(256, 128, 128); // 2 scale rows
    private static readonly int CodeCount = 256 * 128;
    private static readonly int ScaleCount = 2 * 128;

    private static byte[] Codes() => new byte[CodeCount];

    private static Half[] Scales() => Enumerable.Repeat((Half)0.01, ScaleCount).ToArray();

    private static Half[] Weights() => new Half[CodeCount];

    private static Half[] With(Half[] array, int index, Half value)
    {
        array[index] = value;
        return array;
    }

    private static readonly Dictionary<string, (string Param, Action Act)> Cases = new()
    {
        // Layout
        ["layout: k=100 not a multiple of 128"] = ("inFeatures", () => _ = new MarlinLayout(100, 64, -1)),
        ["layout: k=192 not a multiple of 128"] = ("inFeatures", () => _ = new MarlinLayout(192, 64, 64)),
        ["layout: k=64 below 128"] = ("inFeatures", () => _ = new MarlinLayout(64, 64, 32)),
        ["layout: k=0"] = ("inFeatures", () => _ = new MarlinLayout(0, 64, -1)),
        ["layout: k=-128"] = ("inFeatures", () => _ = new MarlinLayout(-128, 64, -1)),
        ["layout: n=0"] = ("outFeatures", () => _ = new MarlinLayout(128, 0, -1)),
        ["layout: n=-64"] = ("outFeatures", () => _ = new MarlinLayout(128, -64, -1)),
        ["layout: n=96 not a multiple of 64"] = ("outFeatures", () => _ = new MarlinLayout(128, 96, 128)),
        ["layout: n=32"] = ("outFeatures", () => _ = new MarlinLayout(128, 32, 128)),
        ["layout: g=0"] = ("groupSize", () => _ = new MarlinLayout(128, 64, 0)),
        ["layout: g=16"] = ("groupSize", () => _ = new MarlinLayout(128, 64, 16)),
        ["layout: g=96"] = ("groupSize", () => _ = new MarlinLayout(384, 64, 96)),
        ["layout: g=256"] = ("groupSize", () => _ = new MarlinLayout(256, 64, 256)),
        ["layout: g=-2"] = ("groupSize", () => _ = new MarlinLayout(128, 64, -2)),

        // Pack
        ["Pack: codes too short"] = ("codes", () => MarlinPacker.Pack(new byte[CodeCount - 1], Scales(), L)),
        ["Pack: codes too long"] = ("codes", () => MarlinPacker.Pack(new byte[CodeCount + 8], Scales(), L)),
        ["Pack: scales too short"] = ("scales", () => MarlinPacker.Pack(Codes(), new Half[ScaleCount - 1], L)),
        ["Pack: per-channel scales for a grouped layout"] = ("scales", () => MarlinPacker.Pack(Codes(), new Half[128], L)),
        ["Pack: code 16"] = ("codes", () => { var c = Codes(); c[CodeCount - 1] = 16; MarlinPacker.Pack(c, Scales(), L); }),
        ["Pack: code 255"] = ("codes", () => { var c = Codes(); c[77] = 255; MarlinPacker.Pack(c, Scales(), L); }),
        ["Pack: NaN scale"] = ("scales", () => MarlinPacker.Pack(Codes(), With(Scales(), 3, Half.NaN), L)),
        ["Pack: +Inf scale"] = ("scales", () => MarlinPacker.Pack(Codes(), With(Scales(), 200, Half.PositiveInfinity), L)),
        ["Pack: negative scale"] = ("scales", () => MarlinPacker.Pack(Codes(), With(Scales(), 0, (Half)(-0.5)), L)),
        ["Pack: null layout"] = ("layout", () => MarlinPacker.Pack(Codes(), Scales(), null!)),

        // PackFakeQuantized
        ["PackFakeQuantized: weights length"] = ("weights", () => MarlinPacker.PackFakeQuantized(new Half[CodeCount / 2], Scales(), L)),
        ["PackFakeQuantized: NaN weight"] = ("weights", () => MarlinPacker.PackFakeQuantized(With(Weights(), 5, Half.NaN), Scales(), L)),
        ["PackFakeQuantized: -Inf weight"] = ("weights", () => MarlinPacker.PackFakeQuantized(With(Weights(), 9, Half.NegativeInfinity), Scales(), L)),
        ["PackFakeQuantized: zero scale"] = ("scales", () => MarlinPacker.PackFakeQuantized(Weights(), With(Scales(), 1, Half.Zero), L)),
        ["PackFakeQuantized: -Inf scale"] = ("scales", () => MarlinPacker.PackFakeQuantized(Weights(), With(Scales(), 1, Half.NegativeInfinity), L)),
        ["PackFakeQuantized: scales length"] = ("scales", () => MarlinPacker.PackFakeQuantized(Weights(), new Half[ScaleCount + 1], L)),

        // Packed weights and scale permutations
        ["MarlinPackedWeights: B length"] = ("b", () => _ = new MarlinPackedWeights(L, new int[(CodeCount / 8) - 1], Scales())),
        ["MarlinPackedWeights: scales length"] = ("scales", () => _ = new MarlinPackedWeights(L, new int[CodeCount / 8], new Half[ScaleCount * 2])),
        ["MarlinPackedWeights: null B"] = ("b", () => _ = new MarlinPackedWeights(L, null!, Scales())),
        ["PackScales: length"] = ("scales", () => MarlinPacker.PackScales(new Half[ScaleCount - 64], L)),
        ["UnpackScales: length"] = ("packedScales", () => MarlinPacker.UnpackScales(new Half[1], L)),
        ["Unpack: null"] = ("packed", () => MarlinPacker.Unpack(null!)),

        // Reference
        ["Dequantize: codes length"] = ("codes", () => MarlinReference.Dequantize(new byte[10], Scales(), L)),
        ["Dequantize: scales length"] = ("scales", () => MarlinReference.Dequantize(Codes(), new Half[10], L)),
        ["Dequantize: code 20"] = ("codes", () => { var c = Codes(); c[0] = 20; MarlinReference.Dequantize(c, Scales(), L); }),
        ["Multiply: a length"] = ("a", () => MarlinReference.Multiply(new Half[2 * 256 - 1], 2, new Half[256 * 64], 256, 64)),
        ["Multiply: weights length"] = ("weightsKN", () => MarlinReference.Multiply(new Half[2 * 256], 2, new Half[256 * 63], 256, 64)),
        ["Multiply: k=0"] = ("k", () => MarlinReference.Multiply(new Half[0], 2, new Half[0], 0, 64)),
        ["Multiply: n=-1"] = ("n", () => MarlinReference.Multiply(new Half[4], 2, new Half[2], 2, -1)),
        ["Multiply: m=-1"] = ("m", () => MarlinReference.Multiply(new Half[0], -1, new Half[4], 2, 2)),

        // RTN
        ["Quantize: length"] = ("weightsKN", () => RtnQuantizer.Quantize(new Half[CodeCount - 128], L)),
        ["Quantize: NaN weight"] = ("weightsKN", () => RtnQuantizer.Quantize(With(Weights(), 100, Half.NaN), L)),
        ["Quantize: +Inf weight"] = ("weightsKN", () => RtnQuantizer.Quantize(With(Weights(), 100, Half.PositiveInfinity), L)),
        ["QuantizeLinear: length"] = ("linearWeight", () => RtnQuantizer.QuantizeLinear(new Half[1], L)),
        ["QuantizeLinear: NaN weight"] = ("linearWeight", () => RtnQuantizer.QuantizeLinear(With(Weights(), 3, Half.NaN), L)),
        ["Quantize: null layout"] = ("layout", () => RtnQuantizer.Quantize(Weights(), null!)),
    };

    public static TheoryData<string> CaseNames() => new(Cases.Keys);

    [Fact]
    public void ThereAreAtLeast25Cases() => Assert.True(Cases.Count >= 25, $"only {Cases.Count} cases");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BadInputThrowsArgumentExceptionNamingTheParameter(string caseName)
    {
        var (param, act) = Cases[caseName];
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(act);
        Assert.Equal(param, ex.ParamName);
        Assert.Contains(param, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidLayoutsAreAccepted()
    {
        foreach (int g in MarlinLayout.SupportedGroupSizes)
        {
            foreach (int k in new[] { 128, 256, 4096, 11008 + 256 - (11008 % 256) })
            {
                var layout = new MarlinLayout(k, 64, g);
                Assert.Equal(k, layout.InFeatures);
            }
        }
    }
}
