using System.Collections.Concurrent;
using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>A loaded CUBIN/PTX module (cuModuleLoadData).</summary>
public sealed class CudaModule : IDisposable
{
    private readonly NativeModuleHandle _module;
    private readonly ConcurrentDictionary<string, CudaFunction> _functions = new(StringComparer.Ordinal);

    private CudaModule(NativeModuleHandle module) => _module = module;

    internal static unsafe CudaModule LoadIn(CudaContext context, byte[] image)
    {
        var ctx = context.Handle;
        nint module;
        fixed (byte* p = image)
        {
            Driver.Check(DriverApi.cuModuleLoadData(out module, p), nameof(DriverApi.cuModuleLoadData));
        }
        NativeModuleHandle handle;
        try
        {
            handle = new NativeModuleHandle(ctx, module);
        }
        catch
        {
            DriverApi.cuModuleUnload(module);
            throw;
        }
        return new CudaModule(handle);
    }

    public bool IsDisposed => _module.IsClosed;

    /// <summary>Looks up a kernel by its (unmangled, <c>extern "C"</c>) name; results are cached.</summary>
    /// <exception cref="CudaException">No such function (CUDA_ERROR_NOT_FOUND).</exception>
    public CudaFunction GetFunction(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ThrowIfDisposed();
        if (_functions.TryGetValue(name, out var cached)) return cached;
        MakeCurrent();
        int rc = DriverApi.cuModuleGetFunction(out nint function, _module.DangerousGetHandle(), name);
        if (rc != DriverApi.CUDA_SUCCESS)
            throw new CudaException($"{nameof(DriverApi.cuModuleGetFunction)}(\"{name}\")", rc, Driver.ErrorName(rc), Driver.ErrorDescription(rc));
        return _functions.GetOrAdd(name, new CudaFunction(this, function, name));
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_module.IsClosed, this);

    internal void MakeCurrent() => _module.ContextHandle.MakeCurrent();

    /// <summary>Unloads the module; its functions can no longer be launched.</summary>
    public void Dispose() => _module.Dispose();
}
