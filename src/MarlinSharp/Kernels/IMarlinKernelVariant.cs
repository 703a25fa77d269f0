namespace MarlinSharp.Kernels;

/// <summary>
/// One compile-time instantiation of one of the GEMM kernel sources: what <see cref="MarlinKernelLibrary"/> needs to
/// compile, cache and load it. Implemented by <see cref="MarlinKernelConfig"/> (<c>marlin_dense.cu</c>),
/// <see cref="MarlinStreamConfig"/> (<c>marlin_stream.cu</c>) and <see cref="MarlinWideConfig"/> (<c>marlin_wgmma.cu</c>); all are records, so equal settings are one kernel.
/// </summary>
public interface IMarlinKernelVariant
{
    /// <summary>The embedded <c>.cu</c> file (see <see cref="KernelSources"/>).</summary>
    string SourceName { get; }

    string EntryPoint { get; }

    /// <summary>Threads per CTA.</summary>
    int BlockThreads { get; }

    /// <summary>Dynamic shared memory a launch asks for.</summary>
    int DynamicSharedMemoryBytes { get; }

    /// <summary>Most rows one launch covers.</summary>
    int RowsPerLaunch { get; }

    /// <summary>Group size the kernel is compiled for; -1 for per-output-channel scales.</summary>
    int GroupSize { get; }

    /// <summary>The <c>-D</c> macros (and language options) of this instantiation.</summary>
    IReadOnlyList<string> CompileOptions();

    /// <summary>Throws unless the kernel's static assertions would hold.</summary>
    void Validate();

    /// <summary>The NVRTC target for a device of <paramref name="deviceArchitecture"/> ("sm_90"): the device's own, unless the
    /// kernel needs architecture-specific features ("sm_90a").</summary>
    string ArchitectureFor(string deviceArchitecture) => deviceArchitecture;
}
