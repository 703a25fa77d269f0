using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>
/// An instantiated (executable) CUDA graph made by <see cref="CudaStream.Capture"/>: replays the captured work with one
/// launch. The buffers it was captured with must outlive it. A graph must not run concurrently with itself.
/// </summary>
public sealed class CudaGraph : IDisposable
{
    private readonly GraphExecHandle _exec;

    private CudaGraph(GraphExecHandle exec, int nodeCount)
    {
        _exec = exec;
        NodeCount = nodeCount;
    }

    internal static unsafe CudaGraph Instantiate(PrimaryContextHandle context, nint graph)
    {
        nuint nodes = 0;
        Driver.Check(DriverApi.cuGraphGetNodes(graph, null, ref nodes), nameof(DriverApi.cuGraphGetNodes));
        Driver.Check(DriverApi.cuGraphInstantiateWithFlags(out nint exec, graph, 0), nameof(DriverApi.cuGraphInstantiateWithFlags));
        GraphExecHandle handle;
        try
        {
            handle = new GraphExecHandle(context, exec);
        }
        catch
        {
            DriverApi.cuGraphExecDestroy(exec);
            throw;
        }
        return new CudaGraph(handle, (int)nodes);
    }

    /// <summary>Operations (kernels, copies, …) the capture recorded.</summary>
    public int NodeCount { get; }

    public bool IsDisposed => _exec.IsClosed;

    /// <summary>Queues one replay of the graph on <paramref name="stream"/> (cuGraphLaunch).</summary>
    public void Launch(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_exec.IsClosed, this);
        nint s = stream.Handle;
        _exec.ContextHandle.MakeCurrent();
        Driver.Check(DriverApi.cuGraphLaunch(_exec.DangerousGetHandle(), s), nameof(DriverApi.cuGraphLaunch));
    }

    public void Dispose() => _exec.Dispose();
}
