using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>A CUDA event, timing-enabled unless created for synchronisation only.</summary>
public sealed class CudaEvent : IDisposable
{
    private readonly EventHandle _event;

    private CudaEvent(EventHandle handle) => _event = handle;

    internal static CudaEvent CreateIn(CudaContext context, bool timing = true)
    {
        var ctx = context.Handle;
        Driver.Check(DriverApi.cuEventCreate(out nint ev, timing ? DriverApi.CU_EVENT_DEFAULT : DriverApi.CU_EVENT_DISABLE_TIMING), nameof(DriverApi.cuEventCreate));
        EventHandle handle;
        try
        {
            handle = new EventHandle(ctx, ev);
        }
        catch
        {
            DriverApi.cuEventDestroy_v2(ev);
            throw;
        }
        return new CudaEvent(handle) { HasTiming = timing };
    }

    /// <summary>Whether the event takes timestamps (<see cref="ElapsedMilliseconds"/> needs two such events).</summary>
    public bool HasTiming { get; private init; }

    public bool IsDisposed => _event.IsClosed;

    /// <summary>Records the event at the current end of <paramref name="stream"/>.</summary>
    public void Record(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        nint ev = Handle;
        nint s = stream.Handle;
        MakeCurrent();
        Driver.Check(DriverApi.cuEventRecord(ev, s), nameof(DriverApi.cuEventRecord));
    }

    /// <summary>Blocks until the recorded work has completed.</summary>
    public void Synchronize()
    {
        nint ev = Handle;
        MakeCurrent();
        Driver.Check(DriverApi.cuEventSynchronize(ev), nameof(DriverApi.cuEventSynchronize));
    }

    /// <summary>True when the work captured by the last <see cref="Record"/> has completed (cuEventQuery).</summary>
    public bool IsCompleted
    {
        get
        {
            nint ev = Handle;
            MakeCurrent();
            int rc = DriverApi.cuEventQuery(ev);
            if (rc == DriverApi.CUDA_ERROR_NOT_READY) return false;
            Driver.Check(rc, nameof(DriverApi.cuEventQuery));
            return true;
        }
    }

    /// <summary>Milliseconds between two recorded, completed events (cuEventElapsedTime).</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        if (!start.HasTiming) throw new ArgumentException("The event was created without timing (for synchronisation only).", nameof(start));
        if (!end.HasTiming) throw new ArgumentException("The event was created without timing (for synchronisation only).", nameof(end));
        nint s = start.Handle, e = end.Handle;
        start.MakeCurrent();
        Driver.Check(DriverApi.cuEventElapsedTime(out float ms, s, e), nameof(DriverApi.cuEventElapsedTime));
        return ms;
    }

    private nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_event.IsClosed, this);
            return _event.DangerousGetHandle();
        }
    }

    private void MakeCurrent() => _event.ContextHandle.MakeCurrent();

    public void Dispose() => _event.Dispose();
}
