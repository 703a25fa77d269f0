namespace MarlinSharp.Cuda;

/// <summary>Names and descriptions of cublasStatus_t values (cuBLAS has no name lookup function).</summary>
internal static class CublasStatus
{
    internal static (string Name, string Description) Describe(int status) => status switch
    {
        0 => ("CUBLAS_STATUS_SUCCESS", "success"),
        1 => ("CUBLAS_STATUS_NOT_INITIALIZED", "cuBLAS was not initialized (cublasCreate failed or the handle is invalid)"),
        3 => ("CUBLAS_STATUS_ALLOC_FAILED", "resource allocation failed inside cuBLAS"),
        7 => ("CUBLAS_STATUS_INVALID_VALUE", "an unsupported value or parameter was passed"),
        8 => ("CUBLAS_STATUS_ARCH_MISMATCH", "the feature is not supported on this GPU architecture"),
        11 => ("CUBLAS_STATUS_MAPPING_ERROR", "access to GPU memory space failed"),
        13 => ("CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to execute"),
        14 => ("CUBLAS_STATUS_INTERNAL_ERROR", "an internal cuBLAS operation failed"),
        15 => ("CUBLAS_STATUS_NOT_SUPPORTED", "the requested functionality is not supported"),
        16 => ("CUBLAS_STATUS_LICENSE_ERROR", "license error"),
        _ => ($"CUBLAS_STATUS_UNKNOWN_{status}", "unknown cuBLAS status"),
    };

    internal static void Check(int status, string apiCall)
    {
        if (status == 0) return;
        var (name, description) = Describe(status);
        throw new CudaException(apiCall, status, name, description);
    }
}
