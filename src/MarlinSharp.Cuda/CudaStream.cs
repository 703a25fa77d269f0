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

    /// <summary>
    /// Records the work that <paramref name="body"/> queues on this stream into a CUDA graph instead of running it
    /// (cuStreamBeginCapture_v2 … cuStreamEndCapture) and instantiates it (cuGraphInstantiateWithFlags). Nothing runs
    /// until <see cref="CudaGraph.Launch"/>. Kernel arguments, including device pointers, are frozen at capture time.
    /// </summary>
    /// <remarks>
    /// The body must only queue stream-ordered work: no allocation, synchronisation or synchronous copy (the driver
    /// rejects those during capture, naming the call). Capture uses CU_STREAM_CAPTURE_MODE_THREAD_LOCAL: such unsafe
    /// calls made by this thread fail at once rather than silently racing the capture (RELAXED would allow them),
    /// while other threads, e.g. a finalizer freeing an unrelated buffer, are unaffected (GLOBAL would fail them).
    /// If <paramref name="body"/> throws, the capture is ended, the partial graph discarded and the exception rethrown.
    /// </remarks>
    public CudaGraph Capture(Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        nint s = Handle;
        MakeCurrent();
        Driver.Check(DriverApi.cuStreamBeginCapture_v2(s, DriverApi.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), nameof(DriverApi.cuStreamBeginCapture_v2));
        try
        {
            body();
        }
        catch
        {
            MakeCurrent();
            if (DriverApi.cuStreamEndCapture(s, out nint partial) == DriverApi.CUDA_SUCCESS && partial != 0)
                DriverApi.cuGraphDestroy(partial);
            throw;
        }
        MakeCurrent();
        Driver.Check(DriverApi.cuStreamEndCapture(s, out nint graph), nameof(DriverApi.cuStreamEndCapture));
        try
        {
            WriteDebugDot(graph);
            return CudaGraph.Instantiate(_stream.ContextHandle, graph);
        }
        finally
        {
            // The executable graph is independent of the graph it was instantiated from.
            DriverApi.cuGraphDestroy(graph);
        }
    }

    internal void MakeCurrent() => _stream.ContextHandle.MakeCurrent();

    /// <summary>Development switch: MARLINSHARP_DEBUG_GRAPH_DOT names a folder that receives every captured graph as Graphviz text.</summary>
    private static readonly string? GraphDotFolder = Environment.GetEnvironmentVariable("MARLINSHARP_DEBUG_GRAPH_DOT");

    private static int _graphsWritten;

    private static void WriteDebugDot(nint graph)
    {
        if (string.IsNullOrEmpty(GraphDotFolder)) return;
        Directory.CreateDirectory(GraphDotFolder);
        string path = Path.Combine(GraphDotFolder, $"graph-{Interlocked.Increment(ref _graphsWritten)}.dot");
        const uint kernelNodeParams = 1 << 2;  // CU_GRAPH_DEBUG_DOT_FLAGS_KERNEL_NODE_PARAMS: names the kernels
        Driver.Check(DriverApi.cuGraphDebugDotPrint(graph, path, kernelNodeParams), nameof(DriverApi.cuGraphDebugDotPrint));
    }

    public void Dispose() => _stream.Dispose();
}
