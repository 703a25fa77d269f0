namespace MarlinSharp.Cuda;

/// <summary>Static properties of one CUDA device.</summary>
public sealed record DeviceInfo(
    int Ordinal,
    string Name,
    int ComputeCapabilityMajor,
    int ComputeCapabilityMinor,
    int MultiprocessorCount,
    long L2CacheBytes,
    long TotalMemoryBytes,
    int MaxSharedMemoryPerBlockOptin,
    int DriverVersion,
    int MemoryClockKHz,
    int MemoryBusWidthBits)
{
    /// <summary>The NVRTC architecture name, e.g. <c>sm_80</c>.</summary>
    public string Architecture => $"sm_{ComputeCapabilityMajor}{ComputeCapabilityMinor}";

    /// <summary>Programmatic dependent launch (griddepcontrol) exists from compute capability 9.0 (Hopper) on.</summary>
    public bool SupportsProgrammaticDependentLaunch => ComputeCapabilityMajor >= 9;

    /// <summary>Theoretical peak DRAM bandwidth in bytes/s (DDR: two transfers per clock).</summary>
    public double PeakMemoryBandwidthBytesPerSecond => 2.0 * MemoryClockKHz * 1000.0 * (MemoryBusWidthBits / 8.0);
}
