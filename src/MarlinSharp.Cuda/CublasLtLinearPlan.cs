using MarlinSharp.Cuda.Native;

namespace MarlinSharp.Cuda;

/// <summary>
/// y[m,n] = x[m,k] · w[n,k]ᵀ (or y += x · wᵀ), all row-major FP16 with FP32 accumulation, through cuBLASLt for one fixed
/// shape, with the algorithms that cuBLASLt's heuristics offer for it (cublasLtMatmulAlgoGetHeuristic, its best guess
/// first). cublasGemmEx always runs its first guess; a plan lets the caller time every candidate where it will run (inside
/// a decode step's graph, between the engine's own kernels, where a split-K algorithm's extra reduction kernel costs a
/// kernel boundary that timing the GEMM alone does not show) and keep the fastest. Run it through
/// <see cref="CublasHandle.LinearFp16(CublasLtLinearPlan, int, DeviceSpan{Half}, DeviceSpan{Half}, DeviceSpan{Half}, CudaStream, bool)"/>,
/// which supplies the workspace.
/// </summary>
public sealed unsafe class CublasLtLinearPlan : IDisposable
{
    /// <summary>The most candidates a plan asks the heuristics for.</summary>
    public const int MaxCandidates = 16;

    private static readonly Lazy<string?> Unavailable = new(() =>
        NativeLibraries.Check(NativeLibraryKind.CublasLt, CublasLtApi.RequiredExports, out string reason) ? null : reason);

    private readonly CublasLtObjectHandle _lt, _desc, _w, _x, _y;
    private readonly CublasLtApi.MatmulAlgo[] _algos;
    private readonly long[] _workspaceBytes;

    /// <summary>Asks cuBLASLt for up to <see cref="MaxCandidates"/> algorithms that need at most <paramref name="maxWorkspaceBytes"/>.</summary>
    /// <exception cref="CudaUnavailableException">cuBLASLt cannot be loaded.</exception>
    /// <exception cref="InvalidOperationException">The heuristics offer no algorithm for the shape.</exception>
    public CublasLtLinearPlan(CudaContext context, int m, int n, int k, long maxWorkspaceBytes)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxWorkspaceBytes);
        if (Unavailable.Value is { } reason) throw new CudaUnavailableException($"cuBLASLt is not available: {reason}");
        (M, N, K) = (m, n, k);
        context.MakeCurrent();
        _lt = Create(CublasLtApi.cublasLtCreate(out nint lt), lt, CublasLtApi.cublasLtDestroy, nameof(CublasLtApi.cublasLtCreate));
        _desc = Create(CublasLtApi.cublasLtMatmulDescCreate(out nint desc, CublasApi.CUBLAS_COMPUTE_32F, CublasLtApi.CUDA_R_32F), desc,
            CublasLtApi.cublasLtMatmulDescDestroy, nameof(CublasLtApi.cublasLtMatmulDescCreate));
        // Row-major y = x·wᵀ is column-major yᵀ(n×m) = wᵀ · xᵀ with w stored k×n column-major (transposed) and xᵀ k×m.
        int transposed = CublasApi.CUBLAS_OP_T, plain = CublasApi.CUBLAS_OP_N;
        CublasStatus.Check(CublasLtApi.cublasLtMatmulDescSetAttribute(desc, CublasLtApi.CUBLASLT_MATMUL_DESC_TRANSA, &transposed, sizeof(int)), "cublasLtMatmulDescSetAttribute");
        CublasStatus.Check(CublasLtApi.cublasLtMatmulDescSetAttribute(desc, CublasLtApi.CUBLASLT_MATMUL_DESC_TRANSB, &plain, sizeof(int)), "cublasLtMatmulDescSetAttribute");
        _w = Layout((ulong)k, (ulong)n, k);
        _x = Layout((ulong)k, (ulong)m, k);
        _y = Layout((ulong)n, (ulong)m, n);

        var preference = Create(CublasLtApi.cublasLtMatmulPreferenceCreate(out nint pref), pref, CublasLtApi.cublasLtMatmulPreferenceDestroy,
            nameof(CublasLtApi.cublasLtMatmulPreferenceCreate));
        using (preference)
        {
            ulong limit = (ulong)maxWorkspaceBytes;
            CublasStatus.Check(CublasLtApi.cublasLtMatmulPreferenceSetAttribute(pref, CublasLtApi.CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &limit, sizeof(ulong)),
                nameof(CublasLtApi.cublasLtMatmulPreferenceSetAttribute));
            var results = stackalloc CublasLtApi.HeuristicResult[MaxCandidates];
            CublasStatus.Check(CublasLtApi.cublasLtMatmulAlgoGetHeuristic(lt, desc, _w.DangerousGetHandle(), _x.DangerousGetHandle(), _y.DangerousGetHandle(),
                _y.DangerousGetHandle(), pref, MaxCandidates, results, out int found), nameof(CublasLtApi.cublasLtMatmulAlgoGetHeuristic));
            var algos = new List<CublasLtApi.MatmulAlgo>();
            var bytes = new List<long>();
            for (int i = 0; i < found; i++)
            {
                if (results[i].State != CublasApi.CUBLAS_STATUS_SUCCESS) continue;
                algos.Add(results[i].Algo);
                bytes.Add((long)results[i].WorkspaceSize);
            }
            if (algos.Count == 0)
                throw new InvalidOperationException($"cuBLASLt offers no FP16 algorithm for m={m}, n={n}, k={k} within {maxWorkspaceBytes} bytes of workspace.");
            _algos = [.. algos];
            _workspaceBytes = [.. bytes];
        }
    }

    public int M { get; }
    public int N { get; }
    public int K { get; }

    /// <summary>How many algorithms the heuristics offered (at least one); candidate 0 is their first choice.</summary>
    public int CandidateCount => _algos.Length;

    /// <summary>The workspace that candidate <paramref name="candidate"/> needs.</summary>
    public long WorkspaceBytes(int candidate) => _workspaceBytes[CheckCandidate(candidate)];

    /// <summary>The candidate's split-K count (1: none) and reduction scheme (cublasLtReductionScheme_t), for reports.</summary>
    public (int SplitK, int ReductionScheme) Describe(int candidate)
    {
        CheckCandidate(candidate);
        int splitK = 1, scheme = 0;
        fixed (CublasLtApi.MatmulAlgo* algo = &_algos[candidate])
        {
            CublasLtApi.cublasLtMatmulAlgoConfigGetAttribute(algo, CublasLtApi.CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &splitK, sizeof(int), out _);
            CublasLtApi.cublasLtMatmulAlgoConfigGetAttribute(algo, CublasLtApi.CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, &scheme, sizeof(int), out _);
        }
        return (splitK, scheme);
    }

    public bool IsDisposed => _lt.IsClosed;

    /// <summary>Queues the product with candidate <paramref name="candidate"/> (arguments checked by the caller).</summary>
    internal void Enqueue(int candidate, DeviceSpan<Half> x, DeviceSpan<Half> w, DeviceSpan<Half> y, DeviceSpan<byte> workspace, nint stream, bool accumulate)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        CheckCandidate(candidate);
        if (workspace.Length < _workspaceBytes[candidate])
            throw new ArgumentException($"Candidate {candidate} needs {_workspaceBytes[candidate]} bytes of workspace; {workspace.Length} are set.", nameof(workspace));
        float alpha = 1f, beta = accumulate ? 1f : 0f;
        fixed (CublasLtApi.MatmulAlgo* algo = &_algos[candidate])
            CublasStatus.Check(CublasLtApi.cublasLtMatmul(_lt.DangerousGetHandle(), _desc.DangerousGetHandle(), &alpha,
                w.Pointer, _w.DangerousGetHandle(), x.Pointer, _x.DangerousGetHandle(), &beta,
                y.Pointer, _y.DangerousGetHandle(), y.Pointer, _y.DangerousGetHandle(), algo, workspace.Pointer, (nuint)workspace.Length, stream),
                nameof(CublasLtApi.cublasLtMatmul));
    }

    private int CheckCandidate(int candidate)
    {
        if ((uint)candidate >= (uint)_algos.Length)
            throw new ArgumentOutOfRangeException(nameof(candidate), candidate, $"The plan holds candidates 0..{_algos.Length - 1}.");
        return candidate;
    }

    private static CublasLtObjectHandle Create(int status, nint value, Func<nint, int> destroy, string call)
    {
        CublasStatus.Check(status, call);
        return new CublasLtObjectHandle(value, destroy);
    }

    private static CublasLtObjectHandle Layout(ulong rows, ulong cols, long leadingDimension) =>
        Create(CublasLtApi.cublasLtMatrixLayoutCreate(out nint layout, CublasApi.CUDA_R_16F, rows, cols, leadingDimension), layout,
            CublasLtApi.cublasLtMatrixLayoutDestroy, nameof(CublasLtApi.cublasLtMatrixLayoutCreate));

    public void Dispose()
    {
        _y.Dispose();
        _x.Dispose();
        _w.Dispose();
        _desc.Dispose();
        _lt.Dispose();
    }
}
