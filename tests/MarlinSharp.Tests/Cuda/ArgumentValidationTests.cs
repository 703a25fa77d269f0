using MarlinSharp.Cuda;

namespace MarlinSharp.Tests.Cuda;

public class ArgumentValidationTests
{
    [Fact]
    public void DeviceSpanSliceIsBoundsChecked()
    {
        var span = new DeviceSpan<float>(0x1000, 10);
        Assert.Equal(40, span.SizeInBytes);
        Assert.False(span.IsEmpty);

        var slice = span.Slice(2, 5);
        Assert.Equal(0x1000UL + 8, slice.Pointer);
        Assert.Equal(5, slice.Length);
        Assert.Equal(20, slice.SizeInBytes);

        Assert.True(span.Slice(10, 0).IsEmpty);
        Assert.Equal(span, span.Slice(0, 10));
        Assert.Equal(span.Slice(4, 6), span.Slice(4));

        Assert.Throws<ArgumentOutOfRangeException>(() => span.Slice(-1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => span.Slice(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => span.Slice(8, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => span.Slice(11, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => span.Slice(1, long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => span.Slice(11));
        Assert.Throws<ArgumentOutOfRangeException>(() => slice.Slice(1, 5)); // relative to the slice

        DeviceSpan<Half> empty = default;
        Assert.True(empty.IsEmpty);
        Assert.Equal(0, empty.SizeInBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => empty.Slice(0, 1));
    }

    [Fact]
    public void LinearFp16ChecksShapesAndLengths()
    {
        var x = new DeviceSpan<Half>(0x1000, 4 * 8);   // m=4, k=8
        var w = new DeviceSpan<Half>(0x2000, 16 * 8);  // n=16
        var y = new DeviceSpan<Half>(0x3000, 4 * 16);

        CublasHandle.ValidateLinear(x, w, y, 4, 16, 8); // fits exactly

        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => CublasHandle.ValidateLinear(x, w, y, 0, 16, 8)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => CublasHandle.ValidateLinear(x, w, y, 4, -1, 8)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => CublasHandle.ValidateLinear(x, w, y, 4, 16, 0)).ParamName);
        var ex = Assert.Throws<ArgumentException>(() => CublasHandle.ValidateLinear(x, w, y, 5, 16, 8));
        Assert.Equal("x", ex.ParamName);
        Assert.Contains("40", ex.Message);
        Assert.Equal("w", Assert.Throws<ArgumentException>(() => CublasHandle.ValidateLinear(x, w, y, 4, 17, 8)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => CublasHandle.ValidateLinear(x, w, y.Slice(0, 63), 4, 16, 8)).ParamName);
    }

    [Fact]
    public void StridedBatchedChecksEveryBatchFits()
    {
        var a = new DeviceSpan<Half>(0x1000, 3 * 2 * 4);   // batch 3, m=2, k=4
        var b = new DeviceSpan<Half>(0x2000, 3 * 4 * 5);   // n=5
        var c = new DeviceSpan<Half>(0x3000, 3 * 2 * 5);
        CublasHandle.ValidateStridedBatched(a, b, c, 2, 5, 4, 3, 8, 20, 10);
        CublasHandle.ValidateStridedBatched(a, b.Slice(0, 20), c, 2, 5, 4, 3, 8, 0, 10); // broadcast b

        Assert.Equal("batchCount", Assert.Throws<ArgumentOutOfRangeException>(() => CublasHandle.ValidateStridedBatched(a, b, c, 2, 5, 4, 0, 8, 20, 10)).ParamName);
        Assert.Equal("strideA", Assert.Throws<ArgumentOutOfRangeException>(() => CublasHandle.ValidateStridedBatched(a, b, c, 2, 5, 4, 3, -8, 20, 10)).ParamName);
        Assert.Equal("strideC", Assert.Throws<ArgumentOutOfRangeException>(() => CublasHandle.ValidateStridedBatched(a, b, c, 2, 5, 4, 3, 8, 20, 9)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => CublasHandle.ValidateStridedBatched(a, b, c, 2, 5, 4, 3, 9, 20, 10)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => CublasHandle.ValidateStridedBatched(a, b, c, 2, 5, 4, 4, 0, 20, 10)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => CublasHandle.ValidateStridedBatched(a, b, c, 2, 5, 4, 3, 8, 20, 11)).ParamName);
    }

    [Fact]
    public void CublasHandleRejectsNullContext()
    {
        Assert.Equal("context", Assert.Throws<ArgumentNullException>(() => new CublasHandle(null!)).ParamName);
    }

    [Fact]
    public void LaunchGeometryIsChecked()
    {
        CudaFunction.ValidateLaunch(new Dim3(4, 2), new Dim3(128, 2), 0, 256);
        Assert.Equal("grid", Assert.Throws<ArgumentOutOfRangeException>(() => CudaFunction.ValidateLaunch(new Dim3(0), new Dim3(32), 0, 1024)).ParamName);
        Assert.Equal("block", Assert.Throws<ArgumentOutOfRangeException>(() => CudaFunction.ValidateLaunch(new Dim3(1), new Dim3(32, 0), 0, 1024)).ParamName);
        Assert.Equal("block", Assert.Throws<ArgumentOutOfRangeException>(() => CudaFunction.ValidateLaunch(new Dim3(1), new Dim3(16, 16, 2), 0, 256)).ParamName);
        Assert.Equal("dynamicSharedBytes", Assert.Throws<ArgumentOutOfRangeException>(() => CudaFunction.ValidateLaunch(new Dim3(1), new Dim3(32), -1, 1024)).ParamName);
        Assert.Equal(new Dim3(7, 1, 1), (Dim3)7u);
        Assert.Equal(24UL, new Dim3(2, 3, 4).Volume);
    }

    [Fact]
    public void CubinValidationRejectsTruncatedAndForeignImages()
    {
        // Minimal synthetic ELF64 header: no program headers, 2 section headers of 64 bytes at offset 64.
        var elf = new byte[64 + 2 * 64];
        elf[0] = 0x7F; elf[1] = (byte)'E'; elf[2] = (byte)'L'; elf[3] = (byte)'F';
        elf[4] = 2; elf[5] = 1;
        BitConverter.TryWriteBytes(elf.AsSpan(0x28), 64UL);
        BitConverter.TryWriteBytes(elf.AsSpan(0x3A), (ushort)64);
        BitConverter.TryWriteBytes(elf.AsSpan(0x3C), (ushort)2);

        Assert.True(CubinImage.IsPlausible(elf));
        Assert.False(CubinImage.IsPlausible(elf.AsSpan(0, elf.Length - 1)));  // section table cut off
        Assert.False(CubinImage.IsPlausible(elf.AsSpan(0, 10)));
        Assert.False(CubinImage.IsPlausible([]));
        var wrongMagic = (byte[])elf.Clone();
        wrongMagic[1] = (byte)'X';
        Assert.False(CubinImage.IsPlausible(wrongMagic));
        var elf32 = (byte[])elf.Clone();
        elf32[4] = 1;
        Assert.False(CubinImage.IsPlausible(elf32));
    }

    [Fact]
    public void ExceptionsCarryApiCallAndErrorName()
    {
        var e = new CudaException("cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
        Assert.Equal("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", e.Message);
        Assert.Equal("cuMemAlloc_v2", e.ApiCall);
        Assert.Equal(2, e.ErrorCode);
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", e.ErrorName);

        var blas = Record.Exception(() => CublasStatus.Check(7, "cublasGemmEx"));
        var ce = Assert.IsType<CudaException>(blas);
        Assert.Equal("CUBLAS_STATUS_INVALID_VALUE", ce.ErrorName);
        Assert.StartsWith("cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7)", ce.Message);
        Assert.Null(Record.Exception(() => CublasStatus.Check(0, "cublasGemmEx")));
        Assert.Equal("CUBLAS_STATUS_UNKNOWN_999", CublasStatus.Describe(999).Name);

        var nv = new NvrtcCompilationException("k.cu", "sm_80", "k.cu(3): error: expected a \";\"");
        Assert.Contains("k.cu(3): error", nv.Message);
        Assert.Equal("k.cu", nv.SourceName);
    }
}
