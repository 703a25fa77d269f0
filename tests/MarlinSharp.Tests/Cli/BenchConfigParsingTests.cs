using MarlinSharp.Cli.Commands;
using MarlinSharp.Kernels;

namespace MarlinSharp.Tests.Cli;

/// <summary>`marlin bench gemm --config`: every kernel family parses, with defaults, and bad text names what was expected.</summary>
public class BenchConfigParsingTests
{
    [Fact]
    public void EachKernelFamilyParsesWithItsDefaults()
    {
        Assert.Equal(new MarlinWideConfig(64, 128, 4, 8), BenchCommand.ParseConfig("wgmma,64", 128));
        Assert.Equal(new MarlinWideConfig(32, 64, 3, 0, CtasPerSm: 2), BenchCommand.ParseConfig("wgmma,32,64,3,2", -1));
        Assert.Equal(new MarlinStreamConfig(2, 4, 8, 2), BenchCommand.ParseConfig("stream,8", 64));
        Assert.Equal(new MarlinStreamConfig(2, 8, 4, 3), BenchCommand.ParseConfig("stream,4,3", 128));
        Assert.Equal(new MarlinKernelConfig(1, 256, 128, 3, 8, CtasPerSm: 2, SwapAb: 1), BenchCommand.ParseConfig("1,256,128,3,2,0,0,1", 128));
    }

    [Theory]
    [InlineData("wgmma,48", "Expected 16, 32, 64 or 128")]
    [InlineData("wgmma,16,64", "16 rows need TileK = 128")]
    [InlineData("wgmma,64,128,2", "Expected 3..6")]
    [InlineData("wgmma,x", "'x' is not a row count")]
    [InlineData("wgmma,64,128,4,1,9", "expected wgmma[,ROWS")]
    [InlineData("stream,5", "--config stream,5")]
    [InlineData("1,96,128,4", "--config 1,96,128,4")]
    public void BadConfigurationsSayWhatWasExpected(string text, string expected)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => BenchCommand.ParseConfig(text, 128));
        Assert.Contains(expected, e.Message);
    }
}
