using System.Runtime.InteropServices;

namespace MarlinSharp.Cuda.Native;

/// <summary>
/// One retain of a device's primary context. Every resource created in the context holds a reference
/// (DangerousAddRef), so the primary context is released only after the last of them is freed.
/// </summary>
internal sealed class PrimaryContextHandle : SafeHandle
{
    internal PrimaryContextHandle(nint context, int device) : base(0, ownsHandle: true)
    {
        Device = device;
        SetHandle(context);
    }

    internal int Device { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>
    /// Makes the context current on the calling thread. Callers must own a reference: either the
    /// <see cref="CudaContext"/> (checked not disposed) or a <see cref="ContextBoundHandle"/> (AddRef'd), so
    /// the native context is still retained even if <see cref="SafeHandle.IsClosed"/> is already set.
    /// </summary>
    internal void MakeCurrent()
    {
        Driver.Check(DriverApi.cuCtxSetCurrent(handle), nameof(DriverApi.cuCtxSetCurrent));
    }

    protected override bool ReleaseHandle() =>
        DriverApi.cuDevicePrimaryCtxRelease_v2(Device) == DriverApi.CUDA_SUCCESS;
}

/// <summary>A native object that lives in a primary context and keeps that context alive.</summary>
internal abstract class ContextBoundHandle : SafeHandle
{
    private readonly PrimaryContextHandle _context;

    protected ContextBoundHandle(PrimaryContextHandle context, nint value) : base(0, ownsHandle: true)
    {
        bool added = false;
        context.DangerousAddRef(ref added);
        _context = context;
        SetHandle(value);
    }

    internal PrimaryContextHandle ContextHandle => _context;

    public override bool IsInvalid => handle == 0;

    protected abstract int Free(nint value);

    protected override bool ReleaseHandle()
    {
        try
        {
            // Freeing needs the owning context current on this (possibly finalizer) thread.
            int rc = DriverApi.cuCtxSetCurrent(_context.DangerousGetHandle());
            return rc == DriverApi.CUDA_SUCCESS && Free(handle) == DriverApi.CUDA_SUCCESS;
        }
        finally
        {
            _context.DangerousRelease();
        }
    }
}

internal sealed class DeviceMemoryHandle(PrimaryContextHandle context, ulong pointer) : ContextBoundHandle(context, (nint)pointer)
{
    internal ulong Pointer => (ulong)handle;
    protected override int Free(nint value) => DriverApi.cuMemFree_v2((ulong)value);
}

internal sealed class PinnedHostMemoryHandle(PrimaryContextHandle context, nint pointer) : ContextBoundHandle(context, pointer)
{
    protected override int Free(nint value) => DriverApi.cuMemFreeHost(value);
}

internal sealed class StreamHandle(PrimaryContextHandle context, nint stream) : ContextBoundHandle(context, stream)
{
    protected override int Free(nint value) => DriverApi.cuStreamDestroy_v2(value);
}

internal sealed class EventHandle(PrimaryContextHandle context, nint @event) : ContextBoundHandle(context, @event)
{
    protected override int Free(nint value) => DriverApi.cuEventDestroy_v2(value);
}

internal sealed class GraphExecHandle(PrimaryContextHandle context, nint graphExec) : ContextBoundHandle(context, graphExec)
{
    protected override int Free(nint value) => DriverApi.cuGraphExecDestroy(value);
}

internal sealed class NativeModuleHandle(PrimaryContextHandle context, nint module) : ContextBoundHandle(context, module)
{
    protected override int Free(nint value) => DriverApi.cuModuleUnload(value);
}

internal sealed class CublasNativeHandle(PrimaryContextHandle context, nint cublas) : ContextBoundHandle(context, cublas)
{
    protected override int Free(nint value) => CublasApi.cublasDestroy_v2(value);
}

/// <summary>A cuBLASLt handle or descriptor (host objects, not bound to a context), freed with its own destroy call.</summary>
internal sealed class CublasLtObjectHandle : SafeHandle
{
    private readonly Func<nint, int> _destroy;

    internal CublasLtObjectHandle(nint value, Func<nint, int> destroy) : base(0, ownsHandle: true)
    {
        _destroy = destroy;
        SetHandle(value);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => _destroy(handle) == 0;
}
