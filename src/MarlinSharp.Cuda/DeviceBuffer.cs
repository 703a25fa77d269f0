using System.Runtime.CompilerServices;
using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>An owned allocation of <see cref="Length"/> elements of device memory (cuMemAlloc).</summary>
public sealed class DeviceBuffer<T> : IDisposable where T : unmanaged
{
    private readonly DeviceMemoryHandle _memory;

    private DeviceBuffer(CudaContext context, DeviceMemoryHandle memory, long length)
    {
        Context = context;
        _memory = memory;
        Length = length;
    }

    internal static DeviceBuffer<T> AllocateIn(CudaContext context, long length)
    {
        long bytes = checked(length * Unsafe.SizeOf<T>());
        var ctx = context.Handle;
        ctx.MakeCurrent();
        Driver.Check(DriverApi.cuMemAlloc_v2(out ulong pointer, (nuint)bytes), nameof(DriverApi.cuMemAlloc_v2));
        DeviceMemoryHandle memory;
        try
        {
            memory = new DeviceMemoryHandle(ctx, pointer);
        }
        catch
        {
            DriverApi.cuMemFree_v2(pointer);
            throw;
        }
        return new DeviceBuffer<T>(context, memory, length);
    }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>Length × sizeof(T).</summary>
    public long SizeInBytes => Length * Unsafe.SizeOf<T>();

    public bool IsDisposed => _memory.IsClosed;

    /// <summary>The context the memory was allocated in.</summary>
    public CudaContext Context { get; }

    /// <summary>Device address of element 0.</summary>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    public ulong Pointer
    {
        get
        {
            ThrowIfDisposed();
            return _memory.Pointer;
        }
    }

    public DeviceSpan<T> AsSpan() => new(Pointer, Length);

    public DeviceSpan<T> Slice(long offset, long length) => AsSpan().Slice(offset, length);

    public static implicit operator DeviceSpan<T>(DeviceBuffer<T> buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return buffer.AsSpan();
    }

    /// <summary>Copies host data into elements [<paramref name="offset"/>, offset + source.Length). Synchronous.</summary>
    public unsafe void CopyFrom(ReadOnlySpan<T> source, long offset = 0)
    {
        ThrowIfDisposed();
        DeviceSpan<T>.CheckRange(offset, source.Length, Length);
        if (source.IsEmpty) return;
        MakeCurrent();
        fixed (T* p = source)
        {
            Driver.Check(DriverApi.cuMemcpyHtoD_v2(ElementAddress(offset), p, Bytes(source.Length)), nameof(DriverApi.cuMemcpyHtoD_v2));
        }
    }

    /// <summary>
    /// Queues a copy of host data into elements [<paramref name="offset"/>, offset + source.Length) on
    /// <paramref name="stream"/> (cuMemcpyHtoDAsync), ordered after the work already queued there. From pageable memory
    /// the driver stages the data before returning, so <paramref name="source"/> may be reused at once.
    /// Not allowed inside <see cref="CudaStream.Capture"/>: the graph would keep a pointer to the host memory.
    /// </summary>
    public unsafe void CopyFromAsync(ReadOnlySpan<T> source, CudaStream stream, long offset = 0)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(stream);
        DeviceSpan<T>.CheckRange(offset, source.Length, Length);
        nint s = stream.Handle;
        if (source.IsEmpty) return;
        MakeCurrent();
        fixed (T* p = source)
        {
            Driver.Check(DriverApi.cuMemcpyHtoDAsync_v2(ElementAddress(offset), p, Bytes(source.Length), s), nameof(DriverApi.cuMemcpyHtoDAsync_v2));
        }
    }

    /// <summary>Copies elements [<paramref name="offset"/>, offset + destination.Length) to the host. Synchronous.</summary>
    public unsafe void CopyTo(Span<T> destination, long offset = 0)
    {
        ThrowIfDisposed();
        DeviceSpan<T>.CheckRange(offset, destination.Length, Length);
        if (destination.IsEmpty) return;
        MakeCurrent();
        fixed (T* p = destination)
        {
            Driver.Check(DriverApi.cuMemcpyDtoH_v2(p, ElementAddress(offset), Bytes(destination.Length)), nameof(DriverApi.cuMemcpyDtoH_v2));
        }
    }

    /// <summary>Copies the whole buffer to a new host array. Synchronous.</summary>
    public T[] ToArray()
    {
        ThrowIfDisposed();
        if (Length > Array.MaxLength)
            throw new InvalidOperationException($"The buffer ({Length} elements) is too large for a managed array.");
        var result = new T[Length];
        CopyTo(result);
        return result;
    }

    /// <summary>
    /// Sets every byte to <paramref name="value"/>: queued on <paramref name="stream"/> (cuMemsetD8Async), or, without a
    /// stream, complete when this returns (cuMemsetD8, then the legacy default stream synchronized). A plain cuMemsetD8 is
    /// asynchronous for device memory and ordered only on the legacy default stream, which non-blocking streams do not wait for.
    /// </summary>
    public void FillBytes(byte value, CudaStream? stream = null)
    {
        ThrowIfDisposed();
        nint s = StreamHandleOf(stream);
        MakeCurrent();
        if (stream is null)
        {
            Driver.Check(DriverApi.cuMemsetD8_v2(_memory.Pointer, value, (nuint)SizeInBytes), nameof(DriverApi.cuMemsetD8_v2));
            SynchronizeLegacyStream();
        }
        else
            Driver.Check(DriverApi.cuMemsetD8Async(_memory.Pointer, value, (nuint)SizeInBytes, s), nameof(DriverApi.cuMemsetD8Async));
    }

    /// <summary>
    /// Sets every 32-bit word to <paramref name="pattern"/> (cuMemsetD32Async on <paramref name="stream"/>, or complete when
    /// this returns without a stream, as <see cref="FillBytes"/>). Requires SizeInBytes % 4 == 0.
    /// </summary>
    public void Fill32(uint pattern, CudaStream? stream = null)
    {
        ThrowIfDisposed();
        if (SizeInBytes % 4 != 0)
            throw new InvalidOperationException($"Fill32 needs a size that is a multiple of 4 bytes; this buffer has {SizeInBytes} bytes.");
        nint s = StreamHandleOf(stream);
        MakeCurrent();
        nuint words = (nuint)(SizeInBytes / 4);
        if (stream is null)
        {
            Driver.Check(DriverApi.cuMemsetD32_v2(_memory.Pointer, pattern, words), nameof(DriverApi.cuMemsetD32_v2));
            SynchronizeLegacyStream();
        }
        else
            Driver.Check(DriverApi.cuMemsetD32Async(_memory.Pointer, pattern, words, s), nameof(DriverApi.cuMemsetD32Async));
    }

    /// <summary>
    /// Copies <paramref name="source"/> (device memory) into elements [0, source.Length) of this buffer
    /// (cuMemcpyDtoD, or cuMemcpyDtoDAsync on <paramref name="stream"/>).
    /// </summary>
    public void CopyFromDevice(DeviceSpan<T> source, CudaStream? stream = null)
    {
        ThrowIfDisposed();
        if (source.Length > Length)
            throw new ArgumentException($"The source has {source.Length} elements but this buffer only {Length}.", nameof(source));
        nint s = StreamHandleOf(stream);
        if (source.IsEmpty) return;
        MakeCurrent();
        if (stream is null)
        {
            // A device-to-device cuMemcpy does not wait for completion: synchronize so that a streamless copy is complete.
            Driver.Check(DriverApi.cuMemcpyDtoD_v2(_memory.Pointer, source.Pointer, (nuint)source.SizeInBytes), nameof(DriverApi.cuMemcpyDtoD_v2));
            SynchronizeLegacyStream();
        }
        else
            Driver.Check(DriverApi.cuMemcpyDtoDAsync_v2(_memory.Pointer, source.Pointer, (nuint)source.SizeInBytes, s), nameof(DriverApi.cuMemcpyDtoDAsync_v2));
    }

    /// <summary>
    /// Waits for the streamless operations above, which run on the legacy default stream. Not cuCtxSynchronize: that waits
    /// for every stream of the context and fails (CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED) while another thread captures a
    /// graph on one of them, which invalidates that capture too.
    /// </summary>
    private static void SynchronizeLegacyStream() => Driver.Check(DriverApi.cuStreamSynchronize(0), nameof(DriverApi.cuStreamSynchronize));

    /// <summary>Frees the device memory. Spans taken from this buffer must no longer be used.</summary>
    public void Dispose() => _memory.Dispose();

    public override string ToString() => IsDisposed
        ? $"DeviceBuffer<{typeof(T).Name}>(disposed)"
        : $"DeviceBuffer<{typeof(T).Name}>(0x{_memory.Pointer:x}, {Length})";

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_memory.IsClosed, this);

    private void MakeCurrent() => _memory.ContextHandle.MakeCurrent();

    private ulong ElementAddress(long offset) => _memory.Pointer + (ulong)(offset * Unsafe.SizeOf<T>());

    private static nuint Bytes(int count) => (nuint)((long)count * Unsafe.SizeOf<T>());

    private static nint StreamHandleOf(CudaStream? stream) => stream?.Handle ?? 0;
}
