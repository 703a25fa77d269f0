using System.Text;
using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>
/// A CUDA device and its primary context. The driver's current context is per thread, so every member
/// that touches the driver first makes this context current on the calling thread; instances can be
/// shared freely between threads.
/// </summary>
public sealed class CudaContext : IDisposable
{
    /// <summary>Lowest supported compute capability (Ampere).</summary>
    public const int MinimumComputeCapabilityMajor = 8;

    private readonly PrimaryContextHandle _handle;

    private CudaContext(PrimaryContextHandle handle, DeviceInfo device)
    {
        _handle = handle;
        Device = device;
    }

    /// <summary>Initialises the driver and retains the primary context of device <paramref name="deviceOrdinal"/>.</summary>
    /// <exception cref="CudaUnavailableException">No driver, no device, or a device older than compute capability 8.0.</exception>
    public static CudaContext Create(int deviceOrdinal = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceOrdinal);
        Driver.EnsureInitialized();
        int count = QueryDeviceCount();
        if (count == 0)
            throw new CudaUnavailableException("CUDA is not available: the driver reports no CUDA devices. Install an NVIDIA GPU and driver, or make one visible (CUDA_VISIBLE_DEVICES).");
        if (deviceOrdinal >= count)
            throw new ArgumentOutOfRangeException(nameof(deviceOrdinal), deviceOrdinal, $"Device ordinal must be below the device count ({count}).");

        var info = QueryDevice(deviceOrdinal);
        if (info.ComputeCapabilityMajor < MinimumComputeCapabilityMajor)
            throw new CudaUnavailableException(TooOldMessage(info));

        Driver.Check(DriverApi.cuDeviceGet(out int device, deviceOrdinal), nameof(DriverApi.cuDeviceGet));
        Driver.Check(DriverApi.cuDevicePrimaryCtxRetain(out nint ctx, device), nameof(DriverApi.cuDevicePrimaryCtxRetain));
        var handle = new PrimaryContextHandle(ctx, device);
        try
        {
            handle.MakeCurrent();
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return new CudaContext(handle, info);
    }

    /// <summary>
    /// True when a driver is installed and device 0 has compute capability 8.0 or newer; otherwise false
    /// with a human-readable <paramref name="reason"/>. Never throws.
    /// </summary>
    public static bool IsGpuAvailable(out string reason)
    {
        try
        {
            if (!Driver.TryInitialize(out reason))
                return false;
            int count = QueryDeviceCount();
            if (count == 0)
            {
                reason = "The NVIDIA driver is installed but reports no CUDA devices.";
                return false;
            }
            var info = QueryDevice(0);
            if (info.ComputeCapabilityMajor < MinimumComputeCapabilityMajor)
            {
                reason = TooOldMessage(info);
                return false;
            }
            reason = "";
            return true;
        }
        catch (Exception e)
        {
            reason = $"CUDA device query failed: {e.Message}";
            return false;
        }
    }

    /// <summary>Number of CUDA devices; 0 when there is no driver.</summary>
    public static int DeviceCount
    {
        get
        {
            try
            {
                return Driver.TryInitialize(out _) ? QueryDeviceCount() : 0;
            }
            catch (CudaException)
            {
                return 0;
            }
        }
    }

    /// <summary>Properties of this context's device.</summary>
    public DeviceInfo Device { get; }

    // A SafeHandle that buffers still reference stays open after Dispose, so disposal is tracked here.
    private volatile bool _disposed;

    public bool IsDisposed => _disposed || _handle.IsClosed;

    internal PrimaryContextHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _handle;
        }
    }

    /// <summary>Makes this context current on the calling thread (cuCtxSetCurrent).</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        _handle.MakeCurrent();
    }

    /// <summary>Blocks until all work in this context has finished (cuCtxSynchronize).</summary>
    public void Synchronize()
    {
        MakeCurrent();
        Driver.Check(DriverApi.cuCtxSynchronize(), nameof(DriverApi.cuCtxSynchronize));
    }

    /// <summary>Allocates <paramref name="length"/> uninitialised elements of device memory.</summary>
    public DeviceBuffer<T> Allocate<T>(long length) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return DeviceBuffer<T>.AllocateIn(this, length);
    }

    /// <summary>
    /// Allocates <paramref name="length"/> zeroed elements of page-locked host memory, for asynchronous copies;
    /// <paramref name="mapped"/> also maps it into the device's address space (<see cref="PinnedHostBuffer{T}.DeviceView"/>).
    /// </summary>
    public PinnedHostBuffer<T> AllocatePinned<T>(int length, bool mapped = false) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return PinnedHostBuffer<T>.AllocateIn(this, length, mapped);
    }

    /// <summary>Allocates device memory for <paramref name="data"/> and copies it there (synchronous).</summary>
    public DeviceBuffer<T> Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        if (data.IsEmpty)
            throw new ArgumentException("Cannot upload an empty span; device buffers have at least one element.", nameof(data));
        var buffer = Allocate<T>(data.Length);
        try
        {
            buffer.CopyFrom(data);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        return buffer;
    }

    /// <summary>Creates a non-blocking stream (does not synchronise with the legacy default stream).</summary>
    public CudaStream CreateStream()
    {
        MakeCurrent();
        return CudaStream.CreateIn(this);
    }

    /// <summary>
    /// Creates an event: timing-enabled by default; with <paramref name="timing"/> false one for synchronisation only
    /// (CU_EVENT_DISABLE_TIMING), which the GPU records without taking a timestamp.
    /// </summary>
    public CudaEvent CreateEvent(bool timing = true)
    {
        MakeCurrent();
        return CudaEvent.CreateIn(this, timing);
    }

    /// <summary>Loads a CUBIN (or NUL-terminated PTX/fatbin) image.</summary>
    public CudaModule LoadModule(byte[] cubin)
    {
        ArgumentNullException.ThrowIfNull(cubin);
        if (cubin.Length == 0)
            throw new ArgumentException("The module image is empty.", nameof(cubin));
        MakeCurrent();
        return CudaModule.LoadIn(this, cubin);
    }

    /// <summary>Free and total device memory in bytes (cuMemGetInfo).</summary>
    public (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        Driver.Check(DriverApi.cuMemGetInfo_v2(out nuint free, out nuint total), nameof(DriverApi.cuMemGetInfo_v2));
        return ((long)free, (long)total);
    }

    /// <summary>
    /// Releases this retain of the primary context. Buffers, streams, events and modules created from it
    /// keep the context alive until they are disposed themselves.
    /// </summary>
    public void Dispose()
    {
        _disposed = true;
        _handle.Dispose();
    }

    public override string ToString() => $"CudaContext(device {Device.Ordinal}: {Device.Name}, {Device.Architecture})";

    private static int QueryDeviceCount()
    {
        Driver.Check(DriverApi.cuDeviceGetCount(out int count), nameof(DriverApi.cuDeviceGetCount));
        return count;
    }

    private static string TooOldMessage(DeviceInfo info) =>
        $"GPU {info.Ordinal} ({info.Name}) has compute capability {info.ComputeCapabilityMajor}.{info.ComputeCapabilityMinor}; " +
        $"MarlinSharp needs compute capability {MinimumComputeCapabilityMajor}.0 (Ampere) or newer.";

    private static unsafe DeviceInfo QueryDevice(int ordinal)
    {
        Driver.Check(DriverApi.cuDeviceGet(out int device, ordinal), nameof(DriverApi.cuDeviceGet));
        byte* name = stackalloc byte[256];
        Driver.Check(DriverApi.cuDeviceGetName(name, 256, device), nameof(DriverApi.cuDeviceGetName));
        int length = 0;
        while (length < 256 && name[length] != 0) length++;
        Driver.Check(DriverApi.cuDeviceTotalMem_v2(out nuint total, device), nameof(DriverApi.cuDeviceTotalMem_v2));

        int Attr(int attribute)
        {
            Driver.Check(DriverApi.cuDeviceGetAttribute(out int value, attribute, device), nameof(DriverApi.cuDeviceGetAttribute));
            return value;
        }

        return new DeviceInfo(
            Ordinal: ordinal,
            Name: Encoding.UTF8.GetString(name, length),
            ComputeCapabilityMajor: Attr(DriverApi.AttrComputeCapabilityMajor),
            ComputeCapabilityMinor: Attr(DriverApi.AttrComputeCapabilityMinor),
            MultiprocessorCount: Attr(DriverApi.AttrMultiprocessorCount),
            L2CacheBytes: Attr(DriverApi.AttrL2CacheSize),
            TotalMemoryBytes: (long)total,
            MaxSharedMemoryPerBlockOptin: Attr(DriverApi.AttrMaxSharedMemoryPerBlockOptin),
            DriverVersion: Driver.DriverVersion,
            MemoryClockKHz: Attr(DriverApi.AttrMemoryClockRate),
            MemoryBusWidthBits: Attr(DriverApi.AttrGlobalMemoryBusWidth));
    }
}
