using System.Buffers.Binary;
using MarlinSharp.Cuda;

namespace MarlinSharp.Tests.Cuda;

public class NvrtcTests
{
    [Theory]
    [InlineData("sm_80")]
    [InlineData("sm_90")]
    public void CompilesHeaderFreeKernelToCudaElf(string architecture)
    {
        NvrtcRequirement.Require();
        var output = Nvrtc.Compile(TestKernels.AddSource, "add.cu", architecture, ["--std=c++17"]);

        byte[] cubin = output.Cubin;
        Assert.True(cubin.Length > 64, $"CUBIN is only {cubin.Length} bytes");
        Assert.Equal(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }, cubin[..4]);
        Assert.Equal(TestKernels.EmCuda, BinaryPrimitives.ReadUInt16LittleEndian(cubin.AsSpan(0x12)));
        Assert.True(CubinImage.IsPlausible(cubin));
        // The kernel's name is in the ELF symbol table.
        Assert.True(cubin.AsSpan().IndexOf("add_f32"u8) >= 0, "kernel symbol not found in CUBIN");
        Assert.NotNull(output.Log);
    }

    [Fact]
    public void DifferentArchitecturesGiveDifferentBinaries()
    {
        NvrtcRequirement.Require();
        var a = Nvrtc.Compile(TestKernels.AddSource, "add.cu", "sm_80", []).Cubin;
        var b = Nvrtc.Compile(TestKernels.AddSource, "add.cu", "sm_90", []).Cubin;
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void OptionsArePassedToTheCompiler()
    {
        NvrtcRequirement.Require();
        var ok = Nvrtc.Compile(TestKernels.NeedsDefineSource, "define.cu", "sm_80", ["-DMARLIN_TEST_VALUE=3"]);
        Assert.True(CubinImage.IsPlausible(ok.Cubin));

        var e = Assert.Throws<NvrtcCompilationException>(
            () => Nvrtc.Compile(TestKernels.NeedsDefineSource, "define.cu", "sm_80", ["-DMARLIN_TEST_VALUE=4"]));
        Assert.Contains("MARLIN_TEST_VALUE must be 3", e.Log);
    }

    [Fact]
    public void SyntaxErrorRaisesCompilationExceptionWithLog()
    {
        NvrtcRequirement.Require();
        var e = Assert.Throws<NvrtcCompilationException>(
            () => Nvrtc.Compile(TestKernels.SyntaxErrorSource, "broken.cu", "sm_80", []));

        Assert.Equal("broken.cu", e.SourceName);
        Assert.Equal("sm_80", e.Architecture);
        Assert.Contains("error", e.Log, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("undefined_identifier_xyz", e.Log);
        Assert.Contains("broken.cu", e.Log);
        Assert.Contains(e.Log, e.Message);
    }

    [Fact]
    public void ReportsVersionAndSupportedArchitectures()
    {
        NvrtcRequirement.Require();
        Assert.True(Nvrtc.Version >= new Version(11, 8), $"NVRTC {Nvrtc.Version}");
        var archs = Nvrtc.SupportedArchitectures();
        Assert.Contains("sm_80", archs);
        Assert.All(archs, a => Assert.Matches("^sm_[0-9]+$", a));
    }

    [Fact]
    public void AvailabilityReasonIsConsistent()
    {
        bool available = Nvrtc.IsAvailable(out string reason);
        if (available)
        {
            Assert.Equal("", reason);
            Assert.True(Nvrtc.Version.Major >= 11);
        }
        else
        {
            Assert.Contains("NVRTC", reason);
            var e = Assert.Throws<CudaUnavailableException>(() => Nvrtc.Version);
            Assert.Contains("install", e.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("compute_80")]
    [InlineData("sm80")]
    [InlineData("80")]
    [InlineData("")]
    [InlineData("sm_80 --use_fast_math")]
    public void RejectsBadArchitectureBeforeCallingNvrtc(string architecture)
    {
        var e = Assert.Throws<ArgumentException>(() => Nvrtc.Compile(TestKernels.AddSource, "add.cu", architecture, []));
        Assert.Equal("architecture", e.ParamName);
    }

    [Fact]
    public void RejectsBadArgumentsBeforeCallingNvrtc()
    {
        Assert.Equal("source", Assert.ThrowsAny<ArgumentException>(() => Nvrtc.Compile("", "a.cu", "sm_80", [])).ParamName);
        Assert.Equal("sourceName", Assert.ThrowsAny<ArgumentException>(() => Nvrtc.Compile("x", "", "sm_80", [])).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => Nvrtc.Compile("x", "a.cu", "sm_80", null!)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => Nvrtc.Compile("x", "a.cu", "sm_80", ["--gpu-architecture=sm_90"])).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => Nvrtc.Compile("x", "a.cu", "sm_80", [""])).ParamName);
    }
}
