using System.Runtime.InteropServices;
using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>Driver-API initialisation and error checking shared by all wrappers.</summary>
internal static class Driver
{
    private const int CUDA_ERROR_INVALID_VALUE = 1;
    private const int CUDA_ERROR_NO_DEVICE = 100;
    private const int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;

    private sealed record InitResult(bool Ok, string Reason, int DriverVersion);

    private static readonly Lazy<InitResult> Init = new(InitCore, LazyThreadSafetyMode.ExecutionAndPublication);

    private static InitResult InitCore()
    {
        try
        {
            if (!NativeLibraries.Check(NativeLibraryKind.Driver, DriverApi.RequiredExports, out string reason))
                return new InitResult(false, reason, 0);
            int rc = DriverApi.cuInit(0);
            if (rc != DriverApi.CUDA_SUCCESS)
            {
                string hint = rc switch
                {
                    CUDA_ERROR_NO_DEVICE => " No CUDA-capable GPU is visible to this process (check CUDA_VISIBLE_DEVICES, or run the container with --gpus all).",
                    CUDA_ERROR_INSUFFICIENT_DRIVER => " The installed NVIDIA driver is too old; install a newer NVIDIA GPU driver.",
                    _ => " Check that the NVIDIA GPU driver is installed and working (nvidia-smi).",
                };
                return new InitResult(false, $"cuInit failed: {ErrorName(rc)} ({rc}): {ErrorDescription(rc)}.{hint}", 0);
            }
            rc = DriverApi.cuDriverGetVersion(out int version);
            return rc == DriverApi.CUDA_SUCCESS
                ? new InitResult(true, "", version)
                : new InitResult(false, $"cuDriverGetVersion failed: {ErrorName(rc)} ({rc})", 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return new InitResult(false, $"{NativeLibraries.Describe(NativeLibraryKind.Driver)} could not be used ({e.Message}). {NativeLibraries.InstallHint(NativeLibraryKind.Driver)}", 0);
        }
    }

    /// <summary>Loads the driver and runs cuInit once; never throws.</summary>
    internal static bool TryInitialize(out string reason)
    {
        var r = Init.Value;
        reason = r.Reason;
        return r.Ok;
    }

    /// <summary>Loads the driver and runs cuInit once; throws <see cref="CudaUnavailableException"/> on failure.</summary>
    internal static void EnsureInitialized()
    {
        if (!TryInitialize(out string reason))
            throw new CudaUnavailableException($"CUDA is not available: {reason}");
    }

    internal static int DriverVersion
    {
        get
        {
            EnsureInitialized();
            return Init.Value.DriverVersion;
        }
    }

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="apiCall"/> when <paramref name="result"/> is not CUDA_SUCCESS.</summary>
    internal static void Check(int result, string apiCall)
    {
        if (result != DriverApi.CUDA_SUCCESS)
            throw new CudaException(apiCall, result, ErrorName(result), ErrorDescription(result));
    }

    internal static string ErrorName(int result)
    {
        try
        {
            if (DriverApi.cuGetErrorName(result, out nint p) == DriverApi.CUDA_SUCCESS && p != 0)
                return Marshal.PtrToStringUTF8(p) ?? Fallback(result);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
        return Fallback(result);

        static string Fallback(int r) => r == CUDA_ERROR_INVALID_VALUE ? "CUDA_ERROR_INVALID_VALUE" : $"CUDA_ERROR_UNKNOWN_CODE_{r}";
    }

    internal static string ErrorDescription(int result)
    {
        try
        {
            if (DriverApi.cuGetErrorString(result, out nint p) == DriverApi.CUDA_SUCCESS && p != 0)
                return Marshal.PtrToStringUTF8(p) ?? "";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
        return "";
    }
}
