using MarlinSharp.Cuda;
using MarlinSharp.Kernels;
using MarlinSharp.Layers;

namespace MarlinSharp.Tests.Kernels;

/// <summary>Bad launches are refused in managed code, before anything reaches the GPU.</summary>
public class LauncherValidationTests
{
    private const ulong Base = 0x7000_0000_0000;

    private static DeviceSpan<Half> Span(ulong pointer, long length) => new(pointer, length);

    public static TheoryData<string, ulong, long, ulong, long, int, string> BadOperands() => new()
    {
        { "zero rows", Base, 4096, Base + (1 << 20), 4096, 0, "rows" },
        { "negative rows", Base, 4096, Base + (1 << 20), 4096, -3, "rows" },
        { "input too short", Base, 256 * 2 - 1, Base + (1 << 20), 128 * 2, 2, "a" },
        { "output too short", Base, 256 * 2, Base + (1 << 20), 128 * 2 - 1, 2, "c" },
        { "input misaligned", Base + 2, 256 * 2, Base + (1 << 20), 128 * 2, 2, "a" },
        { "output misaligned", Base, 256 * 2, Base + (1 << 20) + 8, 128 * 2, 2, "c" },
        { "output overlaps input", Base, 256 * 2, Base + 256, 128 * 2, 2, "c" },
        { "output ends inside input", Base + 512, 256 * 2, Base + 256, 128 * 2, 2, "c" },
        { "empty input", Base, 0, Base + (1 << 20), 128 * 2, 1, "a" },
    };

    [Theory]
    [MemberData(nameof(BadOperands))]
    public void BadOperandsThrowNamingTheParameter(string name, ulong a, long aLength, ulong c, long cLength, int rows, string parameter)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => MarlinGemm.ValidateOperands(Span(a, aLength), Span(c, cLength), rows, k: 256, n: 128));
        Assert.True(e.ParamName == parameter, $"{name}: expected parameter '{parameter}', got '{e.ParamName}' ({e.Message})");
    }

    [Fact]
    public void GoodOperandsPass() => MarlinGemm.ValidateOperands(Span(Base, 256 * 3), Span(Base + (1 << 20), 128 * 3), 3, 256, 128);

    [Fact]
    public void NullArgumentsAreRejectedBeforeAnyLaunch()
    {
        Assert.Equal("runtime", Assert.Throws<ArgumentNullException>(() => MarlinGemm.Multiply(null!, default, null!, default, 1, null!)).ParamName);
    }

    [Theory]
    [InlineData(0L, 4096)]
    [InlineData(4095L, 4096)]
    [InlineData(8193L, 4096)]
    public void RowCountMustBeAWholeNumberOfRows(long length, int features) =>
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => MarlinLinear.RowsOf(length, features, "input")).ParamName);
}
