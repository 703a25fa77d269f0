using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>
/// A cuBLAS handle bound to a <see cref="CudaContext"/>. Used as the FP16 reference/baseline GEMM.
/// A handle must not be used from two threads at the same time (cuBLAS rule); create one per thread or lock.
/// </summary>
public sealed class CublasHandle : IDisposable
{
    private sealed record State(bool Ok, string Reason, Version? Version);

    private static readonly Lazy<State> Init = new(InitCore, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly CublasNativeHandle _handle;
    private readonly Lock _streamLock = new();
    private nint _boundStream;
    private DeviceSpan<byte> _workspace;

    public CublasHandle(CudaContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.MakeCurrent();
        Require();
        var ctx = context.Handle;
        CublasStatus.Check(CublasApi.cublasCreate_v2(out nint handle), nameof(CublasApi.cublasCreate_v2));
        try
        {
            _handle = new CublasNativeHandle(ctx, handle);
        }
        catch
        {
            CublasApi.cublasDestroy_v2(handle);
            throw;
        }
        Context = context;
    }

    public CudaContext Context { get; }

    public bool IsDisposed => _handle.IsClosed;

    /// <summary>True when cuBLAS can be loaded; otherwise false with a reason. Never throws.</summary>
    public static bool IsAvailable(out string reason)
    {
        var s = Init.Value;
        reason = s.Reason;
        return s.Ok;
    }

    /// <summary>The cuBLAS library version (cublasGetProperty).</summary>
    /// <exception cref="CudaUnavailableException">cuBLAS is missing.</exception>
    public static Version Version => Require().Version!;

    /// <summary>Makes subsequent calls on this handle run on <paramref name="stream"/>.</summary>
    public void SetStream(CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        nint h = Handle;
        nint s = stream.Handle;
        MakeCurrent();
        lock (_streamLock)
        {
            CublasStatus.Check(CublasApi.cublasSetStream_v2(h, s), nameof(CublasApi.cublasSetStream_v2));
            _boundStream = s;
            ApplyWorkspace(h);
        }
    }

    /// <summary>
    /// Makes cuBLAS use <paramref name="workspace"/> (owned by the caller, kept alive as long as the handle is used)
    /// instead of memory it allocates itself, so that calls can be captured into CUDA graphs without allocating
    /// (cublasSetWorkspace; re-applied after every stream change, which resets it).
    /// </summary>
    public void UseWorkspace(DeviceSpan<byte> workspace)
    {
        nint h = Handle;
        MakeCurrent();
        lock (_streamLock)
        {
            _workspace = workspace;
            ApplyWorkspace(h);
        }
    }

    private void ApplyWorkspace(nint h)
    {
        if (_workspace.Length > 0)
            CublasStatus.Check(CublasApi.cublasSetWorkspace_v2(h, _workspace.Pointer, (nuint)_workspace.Length), nameof(CublasApi.cublasSetWorkspace_v2));
    }

    /// <summary>
    /// y[m,n] = x[m,k] · w[n,k]ᵀ, all row-major FP16 with FP32 accumulation (cublasGemmEx), queued on <paramref name="stream"/>.
    /// With <paramref name="accumulate"/>, y += x · wᵀ instead (the sum formed in FP32 and rounded once).
    /// </summary>
    public unsafe void LinearFp16(DeviceSpan<Half> x, DeviceSpan<Half> w, DeviceSpan<Half> y, int m, int n, int k, CudaStream stream, bool accumulate = false)
    {
        ValidateLinear(x, w, y, m, n, k);
        ArgumentNullException.ThrowIfNull(stream);
        nint h = Handle;
        BindStream(h, stream);
        float alpha = 1f, beta = accumulate ? 1f : 0f;
        // Row-major y = x·wᵀ is column-major yᵀ(n×m) = w(stored k×n col-major, transposed) · xᵀ(k×m col-major).
        CublasStatus.Check(CublasApi.cublasGemmEx(h, CublasApi.CUBLAS_OP_T, CublasApi.CUBLAS_OP_N, n, m, k,
            &alpha, w.Pointer, CublasApi.CUDA_R_16F, k,
            x.Pointer, CublasApi.CUDA_R_16F, k,
            &beta, y.Pointer, CublasApi.CUDA_R_16F, n,
            CublasApi.CUBLAS_COMPUTE_32F, CublasApi.CUBLAS_GEMM_DEFAULT), nameof(CublasApi.cublasGemmEx));
    }

    /// <summary>
    /// <see cref="LinearFp16(DeviceSpan{Half}, DeviceSpan{Half}, DeviceSpan{Half}, int, int, int, CudaStream, bool)"/> with
    /// the shape of <paramref name="plan"/> through its algorithm <paramref name="candidate"/> (cuBLASLt), using this
    /// handle's workspace (<see cref="UseWorkspace"/>), which must hold what the candidate needs.
    /// </summary>
    public void LinearFp16(CublasLtLinearPlan plan, int candidate, DeviceSpan<Half> x, DeviceSpan<Half> w, DeviceSpan<Half> y, CudaStream stream,
        bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(stream);
        ValidateLinear(x, w, y, plan.M, plan.N, plan.K);
        _ = Handle;
        MakeCurrent();
        plan.Enqueue(candidate, x, w, y, _workspace, stream.Handle, accumulate);
    }

    /// <summary>
    /// Row-major strided-batched FP16 GEMM with FP32 accumulation (cublasGemmStridedBatchedEx): for each
    /// batch i, c_i[m,n] = alpha · a_i[m,k] · op(b_i) + beta · c_i, where op(b_i) is b_i[k,n] or, when
    /// <paramref name="transposeB"/>, b_i[n,k]ᵀ. Matrices are dense (leading dimension = row length) and
    /// batch i starts at element i·stride of each span. A stride of 0 broadcasts one matrix to every batch.
    /// </summary>
    public unsafe void GemmStridedBatchedFp16(
        DeviceSpan<Half> a, DeviceSpan<Half> b, DeviceSpan<Half> c,
        int m, int n, int k, int batchCount,
        long strideA, long strideB, long strideC,
        bool transposeB, CudaStream stream, float alpha = 1f, float beta = 0f)
    {
        ValidateStridedBatched(a, b, c, m, n, k, batchCount, strideA, strideB, strideC);
        ArgumentNullException.ThrowIfNull(stream);
        nint h = Handle;
        BindStream(h, stream);
        int opB = transposeB ? CublasApi.CUBLAS_OP_T : CublasApi.CUBLAS_OP_N;
        int ldb = transposeB ? k : n;
        CublasStatus.Check(CublasApi.cublasGemmStridedBatchedEx(h, opB, CublasApi.CUBLAS_OP_N, n, m, k,
            &alpha, b.Pointer, CublasApi.CUDA_R_16F, ldb, strideB,
            a.Pointer, CublasApi.CUDA_R_16F, k, strideA,
            &beta, c.Pointer, CublasApi.CUDA_R_16F, n, strideC,
            batchCount, CublasApi.CUBLAS_COMPUTE_32F, CublasApi.CUBLAS_GEMM_DEFAULT), nameof(CublasApi.cublasGemmStridedBatchedEx));
    }

    internal static void ValidateLinear(DeviceSpan<Half> x, DeviceSpan<Half> w, DeviceSpan<Half> y, int m, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        RequireLength(x, (long)m * k, nameof(x), $"m*k = {m}*{k}");
        RequireLength(w, (long)n * k, nameof(w), $"n*k = {n}*{k}");
        RequireLength(y, (long)m * n, nameof(y), $"m*n = {m}*{n}");
    }

    internal static void ValidateStridedBatched(DeviceSpan<Half> a, DeviceSpan<Half> b, DeviceSpan<Half> c,
        int m, int n, int k, int batchCount, long strideA, long strideB, long strideC)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(strideA);
        ArgumentOutOfRangeException.ThrowIfNegative(strideB);
        ArgumentOutOfRangeException.ThrowIfNegative(strideC);
        if (batchCount > 1 && strideC < (long)m * n)
            throw new ArgumentOutOfRangeException(nameof(strideC), strideC, $"Output batches would overlap: strideC must be at least m*n = {(long)m * n}.");
        RequireLength(a, checked((batchCount - 1) * strideA + (long)m * k), nameof(a), "(batchCount-1)*strideA + m*k");
        RequireLength(b, checked((batchCount - 1) * strideB + (long)k * n), nameof(b), "(batchCount-1)*strideB + k*n");
        RequireLength(c, checked((batchCount - 1) * strideC + (long)m * n), nameof(c), "(batchCount-1)*strideC + m*n");
    }

    private static void RequireLength(DeviceSpan<Half> span, long needed, string name, string formula)
    {
        if (span.Length < needed)
            throw new ArgumentException($"{name} has {span.Length} elements but {formula} = {needed} are needed.", name);
    }

    private void BindStream(nint h, CudaStream stream)
    {
        nint s = stream.Handle;
        MakeCurrent();
        lock (_streamLock)
        {
            if (_boundStream == s) return;
            CublasStatus.Check(CublasApi.cublasSetStream_v2(h, s), nameof(CublasApi.cublasSetStream_v2));
            _boundStream = s;
            ApplyWorkspace(h);
        }
    }

    private nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle.DangerousGetHandle();
        }
    }

    private void MakeCurrent() => _handle.ContextHandle.MakeCurrent();

    public void Dispose() => _handle.Dispose();

    private static State Require()
    {
        var s = Init.Value;
        if (!s.Ok) throw new CudaUnavailableException($"cuBLAS is not available: {s.Reason}");
        return s;
    }

    private static State InitCore()
    {
        try
        {
            if (!NativeLibraries.Check(NativeLibraryKind.Cublas, CublasApi.RequiredExports, out string reason))
                return new State(false, reason, null);
            CublasStatus.Check(CublasApi.cublasGetProperty(CublasApi.MAJOR_VERSION, out int major), nameof(CublasApi.cublasGetProperty));
            CublasStatus.Check(CublasApi.cublasGetProperty(CublasApi.MINOR_VERSION, out int minor), nameof(CublasApi.cublasGetProperty));
            CublasStatus.Check(CublasApi.cublasGetProperty(CublasApi.PATCH_LEVEL, out int patch), nameof(CublasApi.cublasGetProperty));
            return new State(true, "", new Version(major, minor, patch));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or CudaException)
        {
            return new State(false, $"{NativeLibraries.Describe(NativeLibraryKind.Cublas)} could not be used ({e.Message}). {NativeLibraries.InstallHint(NativeLibraryKind.Cublas)}", null);
        }
    }
}
