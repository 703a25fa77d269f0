using System.Runtime.InteropServices;

namespace MarlinSharp.Cuda.Native;

/// <summary>Raw cuBLASLt entry points (libcublasLt, installed with cuBLAS). All return cublasStatus_t.</summary>
internal static unsafe partial class CublasLtApi
{
    private const string Lib = NativeLibraries.CublasLtName;

    internal const int CUDA_R_32F = 0;
    // cublasLtMatmulDescAttributes_t
    internal const int CUBLASLT_MATMUL_DESC_TRANSA = 3;
    internal const int CUBLASLT_MATMUL_DESC_TRANSB = 4;
    // cublasLtMatmulPreferenceAttributes_t
    internal const int CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1;
    // cublasLtMatmulAlgoConfigAttributes_t
    internal const int CUBLASLT_ALGO_CONFIG_SPLITK_NUM = 2;
    internal const int CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME = 3;

    internal static readonly string[] RequiredExports =
    [
        "cublasLtCreate", "cublasLtDestroy", "cublasLtMatmulDescCreate", "cublasLtMatmulDescDestroy", "cublasLtMatmulDescSetAttribute",
        "cublasLtMatrixLayoutCreate", "cublasLtMatrixLayoutDestroy", "cublasLtMatmulPreferenceCreate", "cublasLtMatmulPreferenceDestroy",
        "cublasLtMatmulPreferenceSetAttribute", "cublasLtMatmulAlgoGetHeuristic", "cublasLtMatmulAlgoConfigGetAttribute", "cublasLtMatmul",
    ];

    static CublasLtApi() => NativeLibraries.EnsureRegistered();

    /// <summary>cublasLtMatmulAlgo_t: opaque, 64 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MatmulAlgo
    {
        public fixed ulong Data[8];
    }

    /// <summary>cublasLtMatmulHeuristicResult_t.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct HeuristicResult
    {
        public MatmulAlgo Algo;
        public nuint WorkspaceSize;
        public int State;
        public float WavesCount;
        public fixed int Reserved[4];
    }

    [LibraryImport(Lib)] internal static partial int cublasLtCreate(out nint handle);
    [LibraryImport(Lib)] internal static partial int cublasLtDestroy(nint handle);
    [LibraryImport(Lib)] internal static partial int cublasLtMatmulDescCreate(out nint desc, int computeType, int scaleType);
    [LibraryImport(Lib)] internal static partial int cublasLtMatmulDescDestroy(nint desc);
    [LibraryImport(Lib)] internal static partial int cublasLtMatmulDescSetAttribute(nint desc, int attribute, void* buffer, nuint size);
    [LibraryImport(Lib)] internal static partial int cublasLtMatrixLayoutCreate(out nint layout, int type, ulong rows, ulong cols, long ld);
    [LibraryImport(Lib)] internal static partial int cublasLtMatrixLayoutDestroy(nint layout);
    [LibraryImport(Lib)] internal static partial int cublasLtMatmulPreferenceCreate(out nint preference);
    [LibraryImport(Lib)] internal static partial int cublasLtMatmulPreferenceDestroy(nint preference);
    [LibraryImport(Lib)] internal static partial int cublasLtMatmulPreferenceSetAttribute(nint preference, int attribute, void* buffer, nuint size);

    [LibraryImport(Lib)]
    internal static partial int cublasLtMatmulAlgoGetHeuristic(nint handle, nint desc, nint a, nint b, nint c, nint d, nint preference,
        int requested, HeuristicResult* results, out int returned);

    [LibraryImport(Lib)]
    internal static partial int cublasLtMatmulAlgoConfigGetAttribute(MatmulAlgo* algo, int attribute, void* buffer, nuint size, out nuint written);

    [LibraryImport(Lib)]
    internal static partial int cublasLtMatmul(nint handle, nint desc, void* alpha, ulong a, nint aDesc, ulong b, nint bDesc, void* beta,
        ulong c, nint cDesc, ulong d, nint dDesc, MatmulAlgo* algo, ulong workspace, nuint workspaceSize, nint stream);
}
