namespace MarlinSharp.Cuda;

/// <summary>A CUDA driver, NVRTC or cuBLAS call returned an error.</summary>
public class CudaException : Exception
{
    public CudaException(string apiCall, int errorCode, string errorName, string? description = null, Exception? innerException = null)
        : base(FormatMessage(apiCall, errorCode, errorName, description), innerException)
    {
        ApiCall = apiCall;
        ErrorCode = errorCode;
        ErrorName = errorName;
    }

    /// <summary>The native function that failed, e.g. <c>cuMemAlloc_v2</c>.</summary>
    public string ApiCall { get; }

    /// <summary>The raw status code (CUresult, nvrtcResult or cublasStatus_t).</summary>
    public int ErrorCode { get; }

    /// <summary>The symbolic name of the status code, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</summary>
    public string ErrorName { get; }

    private static string FormatMessage(string apiCall, int errorCode, string errorName, string? description) =>
        string.IsNullOrEmpty(description)
            ? $"{apiCall} failed: {errorName} ({errorCode})"
            : $"{apiCall} failed: {errorName} ({errorCode}): {description}";
}
