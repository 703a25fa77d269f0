using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>Runtime compilation of CUDA C++ to CUBIN with NVRTC. Thread-safe.</summary>
public static partial class Nvrtc
{
    private sealed record State(bool Ok, string Reason, Version? Version);

    private static readonly Lazy<State> Init = new(InitCore, LazyThreadSafetyMode.ExecutionAndPublication);

    private static State InitCore()
    {
        try
        {
            if (!NativeLibraries.Check(NativeLibraryKind.Nvrtc, NvrtcApi.RequiredExports, out string reason))
                return new State(false, reason, null);
            int rc = NvrtcApi.nvrtcVersion(out int major, out int minor);
            if (rc != NvrtcApi.NVRTC_SUCCESS)
                return new State(false, $"nvrtcVersion failed: {ErrorName(rc)} ({rc})", null);
            if (major < 11 || (major == 11 && minor < 8))
                return new State(false, $"NVRTC {major}.{minor} ({NativeLibraries.LoadedName(NativeLibraryKind.Nvrtc)}) is too old. {NativeLibraries.InstallHint(NativeLibraryKind.Nvrtc)}", null);
            return new State(true, "", new Version(major, minor));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return new State(false, $"{NativeLibraries.Describe(NativeLibraryKind.Nvrtc)} could not be used ({e.Message}). {NativeLibraries.InstallHint(NativeLibraryKind.Nvrtc)}", null);
        }
    }

    /// <summary>True when a usable NVRTC (11.8 or newer) can be loaded; otherwise false with a reason. Never throws.</summary>
    public static bool IsAvailable(out string reason)
    {
        var s = Init.Value;
        reason = s.Reason;
        return s.Ok;
    }

    /// <summary>The NVRTC version (major.minor).</summary>
    /// <exception cref="CudaUnavailableException">NVRTC is missing or too old.</exception>
    public static Version Version => Require().Version!;

    private static State Require()
    {
        var s = Init.Value;
        if (!s.Ok) throw new CudaUnavailableException($"NVRTC is not available: {s.Reason}");
        return s;
    }

    [GeneratedRegex("^sm_[0-9]{2,3}[a-z]?$", RegexOptions.CultureInvariant)]
    private static partial Regex ArchitecturePattern();

    /// <summary>
    /// Compiles <paramref name="source"/> for <paramref name="architecture"/> (e.g. "sm_80", "sm_90a";
    /// passed as --gpu-architecture) and returns the CUBIN.
    /// </summary>
    /// <exception cref="NvrtcCompilationException">The source does not compile; carries the log.</exception>
    /// <exception cref="CudaUnavailableException">NVRTC is missing.</exception>
    public static unsafe NvrtcOutput Compile(string source, string sourceName, string architecture, IReadOnlyList<string> options)
    {
        ValidateCompileArguments(source, sourceName, architecture, options);
        Require();

        var allOptions = new List<string>(options.Count + 1) { $"--gpu-architecture={architecture}" };
        allOptions.AddRange(options);

        nint program = 0;
        Check(NvrtcApi.nvrtcCreateProgram(out program, source, sourceName, 0, null, null), nameof(NvrtcApi.nvrtcCreateProgram));
        var pinned = new List<GCHandle>(allOptions.Count);
        try
        {
            var pointers = new nint[allOptions.Count];
            for (int i = 0; i < allOptions.Count; i++)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(allOptions[i] + "\0");
                var h = GCHandle.Alloc(bytes, GCHandleType.Pinned);
                pinned.Add(h);
                pointers[i] = h.AddrOfPinnedObject();
            }

            int rc;
            fixed (nint* opts = pointers)
            {
                rc = NvrtcApi.nvrtcCompileProgram(program, pointers.Length, (byte**)opts);
            }
            string log = GetLog(program);
            if (rc == NvrtcApi.NVRTC_ERROR_COMPILATION)
                throw new NvrtcCompilationException(sourceName, architecture, log);
            Check(rc, nameof(NvrtcApi.nvrtcCompileProgram), log);

            Check(NvrtcApi.nvrtcGetCUBINSize(program, out nuint size), nameof(NvrtcApi.nvrtcGetCUBINSize));
            if (size == 0)
                throw new CudaException(nameof(NvrtcApi.nvrtcGetCUBIN), 0, "EMPTY_CUBIN",
                    $"NVRTC produced no CUBIN for {architecture}; use a real architecture (sm_XX), not a virtual one (compute_XX).");
            var cubin = new byte[(int)size];
            fixed (byte* p = cubin)
            {
                Check(NvrtcApi.nvrtcGetCUBIN(program, p), nameof(NvrtcApi.nvrtcGetCUBIN));
            }
            return new NvrtcOutput(cubin, log);
        }
        finally
        {
            foreach (var h in pinned) h.Free();
            NvrtcApi.nvrtcDestroyProgram(ref program);
        }
    }

    internal static void ValidateCompileArguments(string source, string sourceName, string architecture, IReadOnlyList<string> options)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(sourceName);
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(options);
        if (!ArchitecturePattern().IsMatch(architecture))
            throw new ArgumentException($"Expected a real GPU architecture such as \"sm_80\", \"sm_90\" or \"sm_90a\", got \"{architecture}\".", nameof(architecture));
        for (int i = 0; i < options.Count; i++)
        {
            if (string.IsNullOrEmpty(options[i]) || options[i].Contains('\0'))
                throw new ArgumentException($"Option {i} is empty or contains a NUL character.", nameof(options));
            if (options[i].StartsWith("--gpu-architecture", StringComparison.Ordinal) || options[i].StartsWith("-arch", StringComparison.Ordinal))
                throw new ArgumentException($"Pass the architecture through the architecture parameter, not as option \"{options[i]}\".", nameof(options));
        }
    }

    /// <summary>The real architectures ("sm_XX") this NVRTC can target; empty when the library cannot report them.</summary>
    public static unsafe IReadOnlyList<string> SupportedArchitectures()
    {
        Require();
        if (!NativeLibraries.HasExport(NativeLibraryKind.Nvrtc, "nvrtcGetNumSupportedArchs") ||
            !NativeLibraries.HasExport(NativeLibraryKind.Nvrtc, "nvrtcGetSupportedArchs"))
            return [];
        Check(NvrtcApi.nvrtcGetNumSupportedArchs(out int count), nameof(NvrtcApi.nvrtcGetNumSupportedArchs));
        var archs = new int[count];
        fixed (int* p = archs)
        {
            Check(NvrtcApi.nvrtcGetSupportedArchs(p), nameof(NvrtcApi.nvrtcGetSupportedArchs));
        }
        return archs.Select(a => $"sm_{a}").ToArray();
    }

    private static unsafe string GetLog(nint program)
    {
        if (NvrtcApi.nvrtcGetProgramLogSize(program, out nuint size) != NvrtcApi.NVRTC_SUCCESS || size <= 1)
            return "";
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes)
        {
            if (NvrtcApi.nvrtcGetProgramLog(program, p) != NvrtcApi.NVRTC_SUCCESS) return "";
        }
        return Encoding.UTF8.GetString(bytes, 0, bytes.Length - 1).TrimEnd();
    }

    private static void Check(int result, string apiCall, string? log = null)
    {
        if (result != NvrtcApi.NVRTC_SUCCESS)
            throw new CudaException(apiCall, result, ErrorName(result), string.IsNullOrEmpty(log) ? null : log);
    }

    internal static string ErrorName(int result)
    {
        try
        {
            nint p = NvrtcApi.nvrtcGetErrorString(result);
            if (p != 0) return Marshal.PtrToStringUTF8(p) ?? $"NVRTC_ERROR_{result}";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
        return $"NVRTC_ERROR_{result}";
    }
}
