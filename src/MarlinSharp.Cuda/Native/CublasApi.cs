using System.Runtime.InteropServices;

namespace MarlinSharp.Cuda.Native;

/// <summary>Raw cuBLAS entry points (libcublas). All return cublasStatus_t.</summary>
internal static unsafe partial class CublasApi
{
    private const string Lib = NativeLibraries.CublasName;

    internal const int CUBLAS_STATUS_SUCCESS = 0;
    internal const int CUBLAS_OP_N = 0;
    internal const int CUBLAS_OP_T = 1;
    internal const int CUDA_R_16F = 2;
    internal const int CUBLAS_COMPUTE_32F = 68;
    internal const int CUBLAS_GEMM_DEFAULT = -1;

    // libraryPropertyType
    internal const int MAJOR_VERSION = 0;
    internal const int MINOR_VERSION = 1;
    internal const int PATCH_LEVEL = 2;

    internal static readonly string[] RequiredExports =
    [
        "cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasGetProperty", "cublasGemmEx",
        "cublasGemmStridedBatchedEx",
    ];

    static CublasApi() => NativeLibraries.EnsureRegistered();

    [LibraryImport(Lib)] internal static partial int cublasCreate_v2(out nint handle);
    [LibraryImport(Lib)] internal static partial int cublasDestroy_v2(nint handle);
    [LibraryImport(Lib)] internal static partial int cublasSetStream_v2(nint handle, nint stream);
    [LibraryImport(Lib)] internal static partial int cublasSetWorkspace_v2(nint handle, ulong workspace, nuint bytes);
    [LibraryImport(Lib)] internal static partial int cublasGetProperty(int type, out int value);

    [LibraryImport(Lib)]
    internal static partial int cublasGemmEx(
        nint handle, int transa, int transb, int m, int n, int k,
        void* alpha, ulong a, int aType, int lda,
        ulong b, int bType, int ldb,
        void* beta, ulong c, int cType, int ldc,
        int computeType, int algo);

    [LibraryImport(Lib)]
    internal static partial int cublasGemmStridedBatchedEx(
        nint handle, int transa, int transb, int m, int n, int k,
        void* alpha, ulong a, int aType, int lda, long strideA,
        ulong b, int bType, int ldb, long strideB,
        void* beta, ulong c, int cType, int ldc, long strideC,
        int batchCount, int computeType, int algo);
}
