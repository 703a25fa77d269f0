using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace MarlinSharp.Cuda;

/// <summary>The native libraries this assembly binds to, by logical name.</summary>
internal enum NativeLibraryKind
{
    Driver,
    Nvrtc,
    Cublas,
    CublasLt,
}

/// <summary>
/// Maps the logical library names used by the <c>LibraryImport</c> declarations ("cuda", "nvrtc", "cublas")
/// to the versioned file names that NVIDIA installs, and turns "not installed" into
/// <see cref="CudaUnavailableException"/> instead of a <see cref="DllNotFoundException"/>.
/// </summary>
internal static class NativeLibraries
{
    internal const string DriverName = "cuda";
    internal const string NvrtcName = "nvrtc";
    internal const string CublasName = "cublas";
    internal const string CublasLtName = "cublasLt";

    private static readonly object RegisterLock = new();
    private static bool _registered;
    private static readonly ConcurrentDictionary<NativeLibraryKind, Lazy<LoadResult>> Loaded = new();

    private sealed record LoadResult(nint Handle, string? LoadedName, string? Failure);

    /// <summary>Installs the resolver for this assembly (idempotent).</summary>
    internal static void EnsureRegistered()
    {
        if (Volatile.Read(ref _registered)) return;
        lock (RegisterLock)
        {
            if (_registered) return;
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
            Volatile.Write(ref _registered, true);
        }
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        NativeLibraryKind? kind = libraryName switch
        {
            DriverName => NativeLibraryKind.Driver,
            NvrtcName => NativeLibraryKind.Nvrtc,
            CublasName => NativeLibraryKind.Cublas,
            CublasLtName => NativeLibraryKind.CublasLt,
            _ => null,
        };
        if (kind is null) return 0; // not ours: default probing
        return Load(kind.Value).Handle;
    }

    /// <summary>Candidate file names in the order they are tried.</summary>
    internal static IReadOnlyList<string> Candidates(NativeLibraryKind kind)
    {
        bool windows = OperatingSystem.IsWindows();
        return kind switch
        {
            NativeLibraryKind.Driver => windows ? ["nvcuda.dll"] : ["libcuda.so.1", "libcuda.so"],
            NativeLibraryKind.Nvrtc => windows
                ? ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"]
                : ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"],
            NativeLibraryKind.Cublas => windows
                ? ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"]
                : ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"],
            NativeLibraryKind.CublasLt => windows
                ? ["cublasLt64_13.dll", "cublasLt64_12.dll", "cublasLt64_11.dll"]
                : ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static LoadResult Load(NativeLibraryKind kind) =>
        Loaded.GetOrAdd(kind, k => new Lazy<LoadResult>(() => LoadCore(k))).Value;

    private static LoadResult LoadCore(NativeLibraryKind kind)
    {
        var tried = Candidates(kind);
        foreach (var name in tried)
        {
            if (NativeLibrary.TryLoad(name, out nint handle))
                return new LoadResult(handle, name, null);
        }
        return new LoadResult(0, null, $"could not load any of: {string.Join(", ", tried)}");
    }

    /// <summary>Tries to load the library; never throws.</summary>
    internal static bool TryLoad(NativeLibraryKind kind, out nint handle, out string reason)
    {
        EnsureRegistered();
        var result = Load(kind);
        handle = result.Handle;
        reason = result.Failure ?? "";
        return result.Handle != 0;
    }

    /// <summary>The file name that was loaded, or null.</summary>
    internal static string? LoadedName(NativeLibraryKind kind)
    {
        EnsureRegistered();
        return Load(kind).LoadedName;
    }

    /// <summary>
    /// Checks that the library loads and exports every symbol in <paramref name="requiredExports"/>;
    /// returns a human-readable reason (what is missing and what to install) when it does not.
    /// </summary>
    internal static bool Check(NativeLibraryKind kind, IEnumerable<string> requiredExports, out string reason)
    {
        if (!TryLoad(kind, out nint handle, out string loadFailure))
        {
            reason = $"{Describe(kind)} is not installed ({loadFailure}). {InstallHint(kind)}";
            return false;
        }
        var missing = requiredExports.Where(e => !NativeLibrary.TryGetExport(handle, e, out _)).ToList();
        if (missing.Count > 0)
        {
            reason = $"{Describe(kind)} ({LoadedName(kind)}) is too old: missing {string.Join(", ", missing)}. {InstallHint(kind)}";
            return false;
        }
        reason = "";
        return true;
    }

    internal static bool HasExport(NativeLibraryKind kind, string export) =>
        TryLoad(kind, out nint handle, out _) && NativeLibrary.TryGetExport(handle, export, out _);

    internal static string Describe(NativeLibraryKind kind) => kind switch
    {
        NativeLibraryKind.Driver => "The NVIDIA CUDA driver library (libcuda / nvcuda.dll)",
        NativeLibraryKind.Nvrtc => "The NVRTC runtime compiler (libnvrtc)",
        NativeLibraryKind.Cublas => "cuBLAS (libcublas)",
        NativeLibraryKind.CublasLt => "cuBLASLt (libcublasLt)",
        _ => kind.ToString(),
    };

    internal static string InstallHint(NativeLibraryKind kind) => kind switch
    {
        NativeLibraryKind.Driver =>
            "Install the NVIDIA GPU driver (R520 or newer); in a container, run it with GPU access (e.g. --gpus all with the NVIDIA Container Toolkit).",
        NativeLibraryKind.Nvrtc =>
            "Install NVRTC from CUDA 11.8 or newer (e.g. the cuda-nvrtc-12-x / libnvrtc12 package, or pip nvidia-cuda-nvrtc-cu12) and make sure it is on the library search path.",
        NativeLibraryKind.Cublas or NativeLibraryKind.CublasLt =>
            "Install cuBLAS from CUDA 12 or newer (e.g. the libcublas-12-x package, or pip nvidia-cublas-cu12) and make sure it is on the library search path.",
        _ => "",
    };
}
