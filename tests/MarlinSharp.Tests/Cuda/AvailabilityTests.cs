using MarlinSharp.Cuda;

namespace MarlinSharp.Tests.Cuda;

public class AvailabilityTests
{
    [Fact]
    public void IsGpuAvailableNeverThrowsAndExplainsFalse()
    {
        bool available = CudaContext.IsGpuAvailable(out string reason);
        if (available)
        {
            Assert.Equal("", reason);
            Assert.True(CudaContext.DeviceCount >= 1);
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(reason));
            // The same answer twice (initialisation result is cached, not re-thrown).
            Assert.False(CudaContext.IsGpuAvailable(out string again));
            Assert.Equal(reason, again);
        }
    }

    [Fact]
    public void CreateWithoutGpuThrowsCudaUnavailableNotDllNotFound()
    {
        if (CudaContext.IsGpuAvailable(out _))
            Assert.Skip("A usable GPU is present; this test covers machines without one.");

        var e = Record.Exception(() => CudaContext.Create());
        var unavailable = Assert.IsType<CudaUnavailableException>(e);
        Assert.Null(unavailable.InnerException);
        Assert.Contains("CUDA is not available", unavailable.Message);
        Assert.Matches("(?i)install|driver|GPU", unavailable.Message);
    }

    [Fact]
    public void NoDriverMeansZeroDevicesAndNamesTheFix()
    {
        if (NativeLibraries.TryLoad(NativeLibraryKind.Driver, out _, out _))
            Assert.Skip("The CUDA driver library is installed here.");

        Assert.Equal(0, CudaContext.DeviceCount);
        Assert.False(CudaContext.IsGpuAvailable(out string reason));
        Assert.Contains("libcuda.so.1", reason);
        Assert.Contains("Install the NVIDIA GPU driver", reason);
        var e = Assert.Throws<CudaUnavailableException>(() => CudaContext.Create());
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void CreateRejectsNegativeOrdinal()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaContext.Create(-1));
    }

    [Fact]
    public void CublasAvailabilityIsReportedWithoutThrowing()
    {
        bool available = CublasHandle.IsAvailable(out string reason);
        if (available)
        {
            Assert.True(CublasHandle.Version.Major >= 11);
        }
        else
        {
            Assert.Contains("cuBLAS", reason);
            Assert.Throws<CudaUnavailableException>(() => CublasHandle.Version);
        }
    }

    [Fact]
    public void LibraryCandidatesAreTriedInDocumentedOrder()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("Linux names only.");
        Assert.Equal(["libcuda.so.1", "libcuda.so"], NativeLibraries.Candidates(NativeLibraryKind.Driver));
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"], NativeLibraries.Candidates(NativeLibraryKind.Nvrtc));
        Assert.StartsWith("libcublas.so.13", NativeLibraries.Candidates(NativeLibraryKind.Cublas)[0]);
        Assert.Equal("libcublas.so.12", NativeLibraries.Candidates(NativeLibraryKind.Cublas)[1]);
        Assert.Equal(["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"], NativeLibraries.Candidates(NativeLibraryKind.CublasLt));
    }
}
