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

    [Fact]
    public void ClusterDimensionSitsInTheValueUnionAsThreeUints()
    {
        Assert.Equal(4, DriverApi.CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION);
        Assert.Equal(8, (int)Marshal.OffsetOf<DriverApi.LaunchAttribute>(nameof(DriverApi.LaunchAttribute.ClusterX)));
        Assert.Equal(12, (int)Marshal.OffsetOf<DriverApi.LaunchAttribute>(nameof(DriverApi.LaunchAttribute.ClusterY)));
        Assert.Equal(16, (int)Marshal.OffsetOf<DriverApi.LaunchAttribute>(nameof(DriverApi.LaunchAttribute.ClusterZ)));
        var attribute = new DriverApi.LaunchAttribute { Id = DriverApi.CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION, ClusterX = 8, ClusterY = 1, ClusterZ = 1 };
        Assert.Equal(8, attribute.Value);   // clusterDim.x overlays the flag word
    }

    [Theory]
    [InlineData(8u, 0u, "clusterX")]
    [InlineData(16u, 16u, "clusterX")]
    [InlineData(12u, 8u, "clusterX")]
    public void ClusterLaunchesAreCheckedBeforeTheDriver(uint gridX, uint clusterX, string parameter)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => CudaFunction.ValidateCluster(new Dim3(gridX, 4), clusterX));
        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void ClustersThatDivideTheGridAreAccepted()
    {
        CudaFunction.ValidateCluster(new Dim3(8, 64), 8);
        CudaFunction.ValidateCluster(new Dim3(3, 1), 3);
        CudaFunction.ValidateCluster(new Dim3(5, 2), 1);
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
