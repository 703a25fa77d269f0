using MarlinSharp.Cuda;

namespace MarlinSharp.Layers;

/// <summary>The FP16 baseline: y = x · Wᵀ through cuBLAS (FP16 operands, FP32 accumulation), as torch.matmul does.</summary>
public sealed class CublasLinear : IDisposable
{
    private readonly MarlinRuntime _runtime;

    private CublasLinear(MarlinRuntime runtime, DeviceBuffer<Half> weight, int inFeatures, int outFeatures)
    {
        _runtime = runtime;
        Weight = weight;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public DeviceBuffer<Half> Weight { get; }

    /// <summary>Uploads an <c>nn.Linear</c>-style weight [outFeatures][inFeatures].</summary>
    public static CublasLinear FromWeights(MarlinRuntime runtime, ReadOnlySpan<Half> linearWeight, int inFeatures, int outFeatures)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        if (linearWeight.Length != (long)inFeatures * outFeatures)
            throw new ArgumentException($"Expected {(long)inFeatures * outFeatures} weights ([{outFeatures}][{inFeatures}]), got {linearWeight.Length}.", nameof(linearWeight));
        return new CublasLinear(runtime, runtime.Context.Upload(linearWeight), inFeatures, outFeatures);
    }

    /// <summary>Takes ownership of a weight [outFeatures][inFeatures] already on the GPU.</summary>
    public static CublasLinear FromDevice(MarlinRuntime runtime, DeviceBuffer<Half> weight, int inFeatures, int outFeatures)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Length != (long)inFeatures * outFeatures)
            throw new ArgumentException($"Expected {(long)inFeatures * outFeatures} weights, the buffer holds {weight.Length}.", nameof(weight));
        return new CublasLinear(runtime, weight, inFeatures, outFeatures);
    }

    /// <summary>output = input · Wᵀ, or output += input · Wᵀ with <paramref name="accumulate"/> (a residual add in the same launch).</summary>
    public void Forward(DeviceSpan<Half> input, DeviceSpan<Half> output, int rows, CudaStream stream, bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (_algorithms.TryGetValue((rows, accumulate), out var chosen))
            Forward(input, output, stream, accumulate, chosen.Plan, chosen.Candidate);
        else
            _runtime.ResourcesFor(stream).Cublas(stream).LinearFp16(input, Weight, output, rows, OutFeatures, InFeatures, stream, accumulate);
    }

    /// <summary><see cref="Forward(DeviceSpan{Half}, DeviceSpan{Half}, int, CudaStream, bool)"/> of plan.M rows through one given cuBLASLt candidate.</summary>
    public void Forward(DeviceSpan<Half> input, DeviceSpan<Half> output, CudaStream stream, bool accumulate, CublasLtLinearPlan plan, int candidate)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.N != OutFeatures || plan.K != InFeatures)
            throw new ArgumentException($"The plan is for {plan.N}×{plan.K} weights; this layer's are {OutFeatures}×{InFeatures}.", nameof(plan));
        _runtime.ResourcesFor(stream).Cublas(stream).LinearFp16(plan, candidate, input, Weight, output, stream, accumulate);
    }

    private readonly Dictionary<(int Rows, bool Accumulate), (CublasLtLinearPlan Plan, int Candidate)> _algorithms = [];

    /// <summary>
    /// Runs <see cref="Forward"/> calls of exactly <paramref name="plan"/>.M rows (with this <paramref name="accumulate"/>)
    /// through cuBLASLt algorithm <paramref name="candidate"/> of <paramref name="plan"/> instead of cublasGemmEx's choice
    /// (e.g. the fastest inside a decode step, timed by the caller). The plan stays the caller's and must outlive this use;
    /// a negative <paramref name="candidate"/> returns those calls to cublasGemmEx if they still go through this plan (a
    /// later choice by another caller, with another plan, stays).
    /// </summary>
    public void UseAlgorithm(CublasLtLinearPlan plan, int candidate, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.N != OutFeatures || plan.K != InFeatures)
            throw new ArgumentException($"The plan is for {plan.N}×{plan.K} weights; this layer's are {OutFeatures}×{InFeatures}.", nameof(plan));
        if (candidate < 0)
        {
            if (_algorithms.TryGetValue((plan.M, accumulate), out var current) && ReferenceEquals(current.Plan, plan))
                _algorithms.Remove((plan.M, accumulate));
            return;
        }
        _ = plan.WorkspaceBytes(candidate);  // throws for a candidate the plan does not hold
        _algorithms[(plan.M, accumulate)] = (plan, candidate);
    }

    public void Dispose() => Weight.Dispose();
}
