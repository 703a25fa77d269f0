using System.Runtime.CompilerServices;
using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>
/// Page-locked host memory (cuMemHostAlloc) of <see cref="Length"/> elements. Copies between it and device memory are
/// truly asynchronous: the host neither stages the data nor waits for the stream, so a step can be queued while the
/// previous one runs. The caller must not touch elements a queued copy still reads or writes (wait for an event
/// recorded after the copy). A buffer allocated as mapped is also device-visible memory (<see cref="DeviceView"/>):
/// kernels may read or write it directly, and the host sees what a kernel wrote once the kernel is done.
/// </summary>
public sealed unsafe class PinnedHostBuffer<T> : IDisposable where T : unmanaged
{
    private readonly PinnedHostMemoryHandle _memory;

    private readonly ulong _devicePointer;     // 0 unless mapped

    private PinnedHostBuffer(PinnedHostMemoryHandle memory, int length, ulong devicePointer)
    {
        _memory = memory;
        Length = length;
        _devicePointer = devicePointer;
    }

    internal static PinnedHostBuffer<T> AllocateIn(CudaContext context, int length, bool mapped)
    {
        long bytes = checked((long)length * Unsafe.SizeOf<T>());
        var ctx = context.Handle;
        ctx.MakeCurrent();
        uint flags = mapped ? DriverApi.CU_MEMHOSTALLOC_DEVICEMAP : 0;
        Driver.Check(DriverApi.cuMemHostAlloc(out nint pointer, (nuint)bytes, flags), nameof(DriverApi.cuMemHostAlloc));
        PinnedHostMemoryHandle memory;
        try
        {
            memory = new PinnedHostMemoryHandle(ctx, pointer);
        }
        catch
        {
            DriverApi.cuMemFreeHost(pointer);
            throw;
        }
        ulong device = 0;
        if (mapped)
        {
            int rc = DriverApi.cuMemHostGetDevicePointer_v2(out device, pointer, 0);
            if (rc != DriverApi.CUDA_SUCCESS)
            {
                memory.Dispose();
                Driver.Check(rc, nameof(DriverApi.cuMemHostGetDevicePointer_v2));
            }
        }
        new Span<T>((void*)pointer, length).Clear();
        return new PinnedHostBuffer<T>(memory, length, device);
    }

    /// <summary>Whether kernels can address the buffer (allocated as mapped).</summary>
    public bool IsMapped => _devicePointer != 0;

    /// <summary>The buffer as device-visible memory, for kernels to read or write directly.</summary>
    /// <exception cref="InvalidOperationException">The buffer was not allocated as mapped.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    public DeviceSpan<T> DeviceView
    {
        get
        {
            ObjectDisposedException.ThrowIf(_memory.IsClosed, this);
            if (_devicePointer == 0) throw new InvalidOperationException("The buffer was not allocated as mapped (AllocatePinned with mapped: true).");
            return new DeviceSpan<T>(_devicePointer, Length);
        }
    }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    public bool IsDisposed => _memory.IsClosed;

    /// <summary>The elements, for the host to read or write while no queued copy uses them.</summary>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    public Span<T> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_memory.IsClosed, this);
            return new Span<T>((void*)_memory.DangerousGetHandle(), Length);
        }
    }

    /// <summary>
    /// Queues a copy of elements [0, <paramref name="count"/>) into <paramref name="destination"/> on
    /// <paramref name="stream"/> (cuMemcpyHtoDAsync). The host returns at once; keep the elements unchanged until the
    /// copy has run. Not allowed inside <see cref="CudaStream.Capture"/>.
    /// </summary>
    public void CopyToDeviceAsync(DeviceSpan<T> destination, int count, CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        DeviceSpan<T>.CheckRange(0, count, Length);
        DeviceSpan<T>.CheckRange(0, count, destination.Length);
        if (count == 0) return;
        nint s = stream.Handle;
        nint p = Address;
        _memory.ContextHandle.MakeCurrent();
        Driver.Check(DriverApi.cuMemcpyHtoDAsync_v2(destination.Pointer, (void*)p, (nuint)((long)count * Unsafe.SizeOf<T>()), s),
            nameof(DriverApi.cuMemcpyHtoDAsync_v2));
    }

    private nint Address
    {
        get
        {
            ObjectDisposedException.ThrowIf(_memory.IsClosed, this);
            return _memory.DangerousGetHandle();
        }
    }

    public void Dispose() => _memory.Dispose();
}
