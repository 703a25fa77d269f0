using System.Runtime.InteropServices;

namespace MarlinSharp.Cuda.Native;

/// <summary>Raw NVRTC entry points (libnvrtc). All return nvrtcResult.</summary>
internal static unsafe partial class NvrtcApi
{
    private const string Lib = NativeLibraries.NvrtcName;

    internal const int NVRTC_SUCCESS = 0;
    internal const int NVRTC_ERROR_COMPILATION = 6;

    internal static readonly string[] RequiredExports =
    [
        "nvrtcVersion", "nvrtcGetErrorString", "nvrtcCreateProgram", "nvrtcDestroyProgram", "nvrtcCompileProgram",
        "nvrtcGetProgramLogSize", "nvrtcGetProgramLog", "nvrtcGetCUBINSize", "nvrtcGetCUBIN",
    ];

    static NvrtcApi() => NativeLibraries.EnsureRegistered();

    [LibraryImport(Lib)] internal static partial int nvrtcVersion(out int major, out int minor);
    [LibraryImport(Lib)] internal static partial nint nvrtcGetErrorString(int result);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int nvrtcCreateProgram(out nint program, string source, string name, int numHeaders, byte** headers, byte** includeNames);

    [LibraryImport(Lib)] internal static partial int nvrtcDestroyProgram(ref nint program);
    [LibraryImport(Lib)] internal static partial int nvrtcCompileProgram(nint program, int numOptions, byte** options);
    [LibraryImport(Lib)] internal static partial int nvrtcGetProgramLogSize(nint program, out nuint size);
    [LibraryImport(Lib)] internal static partial int nvrtcGetProgramLog(nint program, byte* log);
    [LibraryImport(Lib)] internal static partial int nvrtcGetCUBINSize(nint program, out nuint size);
    [LibraryImport(Lib)] internal static partial int nvrtcGetCUBIN(nint program, byte* cubin);

    // Optional (NVRTC 11.2+): checked with NativeLibraries.HasExport before use.
    [LibraryImport(Lib)] internal static partial int nvrtcGetNumSupportedArchs(out int count);
    [LibraryImport(Lib)] internal static partial int nvrtcGetSupportedArchs(int* archs);
}
