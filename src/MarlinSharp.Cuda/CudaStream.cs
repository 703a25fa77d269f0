using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>A non-blocking CUDA stream (cuStreamCreate with CU_STREAM_NON_BLOCKING).</summary>
public sealed class CudaStream : IDisposable
{
    private readonly StreamHandle _stream;

    private CudaStream(CudaContext context, StreamHandle stream)
    {
        Context = context;
        _stream = stream;
    }

    internal static CudaStream CreateIn(CudaContext context)
    {
        var ctx = context.Handle;
        Driver.Check(DriverApi.cuStreamCreate(out nint stream, DriverApi.CU_STREAM_NON_BLOCKING), nameof(DriverApi.cuStreamCreate));
        StreamHandle handle;
        try
        {
            handle = new StreamHandle(ctx, stream);
        }
        catch
        {
            DriverApi.cuStreamDestroy_v2(stream);
            throw;
        }
        return new CudaStream(context, handle);
    }

    /// <summary>The context the stream belongs to.</summary>
    public CudaContext Context { get; }

    /// <summary>The native CUstream.</summary>
    /// <exception cref="ObjectDisposedException">The stream has been disposed.</exception>
    public nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_stream.IsClosed, this);
            return _stream.DangerousGetHandle();
        }
    }

    public bool IsDisposed => _stream.IsClosed;

    /// <summary>Blocks until all work queued on the stream has finished.</summary>
    public void Synchronize()
    {
        nint s = Handle;
        MakeCurrent();
        Driver.Check(DriverApi.cuStreamSynchronize(s), nameof(DriverApi.cuStreamSynchronize));
    }

    internal void MakeCurrent() => _stream.ContextHandle.MakeCurrent();

    public void Dispose() => _stream.Dispose();
}
