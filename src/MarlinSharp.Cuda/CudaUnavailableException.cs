namespace MarlinSharp.Cuda;

/// <summary>
/// A required NVIDIA component (driver, GPU, NVRTC or cuBLAS) is missing or unsuitable.
/// The message says what is missing and what to install.
/// </summary>
public sealed class CudaUnavailableException : Exception
{
    public CudaUnavailableException(string message) : base(message) { }

    public CudaUnavailableException(string message, Exception? innerException) : base(message, innerException) { }
}
