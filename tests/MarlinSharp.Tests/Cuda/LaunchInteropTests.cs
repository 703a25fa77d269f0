using System.Runtime.InteropServices;
using MarlinSharp.Cuda;
using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Tests.Cuda;

/// <summary>The managed mirrors of CUlaunchConfig and CUlaunchAttribute must match cuda.h's x86-64 layout byte for byte.</summary>
public class LaunchInteropTests
{
    [Fact]
    public void LaunchConfigMatchesTheDriverLayout()
    {
        Assert.Equal(56, Marshal.SizeOf<DriverApi.LaunchConfig>());
        Assert.Equal(24, (int)Marshal.OffsetOf<DriverApi.LaunchConfig>(nameof(DriverApi.LaunchConfig.SharedMemBytes)));
        Assert.Equal(32, (int)Marshal.OffsetOf<DriverApi.LaunchConfig>(nameof(DriverApi.LaunchConfig.Stream)));
        Assert.Equal(40, (int)Marshal.OffsetOf<DriverApi.LaunchConfig>(nameof(DriverApi.LaunchConfig.Attributes)));
        Assert.Equal(48, (int)Marshal.OffsetOf<DriverApi.LaunchConfig>(nameof(DriverApi.LaunchConfig.AttributeCount)));
    }

    [Fact]
    public void LaunchAttributeMatchesTheDriverLayout()
    {
        Assert.Equal(72, Marshal.SizeOf<DriverApi.LaunchAttribute>());
        Assert.Equal(8, (int)Marshal.OffsetOf<DriverApi.LaunchAttribute>(nameof(DriverApi.LaunchAttribute.Value)));
        Assert.Equal(6, DriverApi.CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION);
    }

    [Theory]
    [InlineData(8, 0, false)]
    [InlineData(8, 9, false)]
    [InlineData(9, 0, true)]
    [InlineData(10, 0, true)]
    public void ProgrammaticDependentLaunchNeedsHopperOrNewer(int major, int minor, bool expected)
    {
        var device = new DeviceInfo(0, "test", major, minor, 132, 50L << 20, 80L << 30, 227 << 10, 13000, 2_619_000, 5120);
        Assert.Equal(expected, device.SupportsProgrammaticDependentLaunch);
    }
}
