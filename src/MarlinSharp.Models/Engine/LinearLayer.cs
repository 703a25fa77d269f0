using MarlinSharp.Cuda;
using MarlinSharp.Kernels;
using MarlinSharp.Layers;

namespace MarlinSharp.Models.Engine;

/// <summary>How the engine's linear layers store their weights.</summary>
public enum LinearFormat
{
    /// <summary>FP16 weights through cuBLAS.</summary>
    Fp16,
    /// <summary>4-bit Marlin weights, group size 128 (RTN-quantized at load).</summary>
    Int4,
}

/// <summary>y[rows][Out] = x[rows][In] · Wᵀ, FP16 in and out, on either back end.</summary>
internal abstract class LinearLayer : IDisposable
{
    public abstract int InFeatures { get; }
    public abstract int OutFeatures { get; }
    public abstract long WeightBytes { get; }
    public abstract void Forward(DeviceSpan<Half> input, DeviceSpan<Half> output, int rows, CudaStream stream);
    public abstract void Dispose();
}

internal sealed class Fp16Linear(CublasLinear inner) : LinearLayer
{
    public override int InFeatures => inner.InFeatures;
    public override int OutFeatures => inner.OutFeatures;
    public override long WeightBytes => inner.Weight.SizeInBytes;
    public override void Forward(DeviceSpan<Half> input, DeviceSpan<Half> output, int rows, CudaStream stream) => inner.Forward(input, output, rows, stream);

    /// <summary>output += input · Wᵀ: the O and down projections adding straight into the residual stream.</summary>
    public void ForwardAccumulate(DeviceSpan<Half> input, DeviceSpan<Half> output, int rows, CudaStream stream) =>
        inner.Forward(input, output, rows, stream, accumulate: true);

    /// <summary>The cuBLAS layer underneath (for choosing its algorithms, <see cref="Fp16GemmTuner"/>).</summary>
    public CublasLinear Cublas => inner;

    public override void Dispose() => inner.Dispose();
}

internal sealed class Int4Linear(MarlinRuntime runtime, MarlinDeviceWeights weights) : LinearLayer
{
    public const int GroupSize = 128;

    public override int InFeatures => weights.Layout.InFeatures;
    public override int OutFeatures => weights.Layout.OutFeatures;
    public override long WeightBytes => weights.SizeInBytes;
    public override void Forward(DeviceSpan<Half> input, DeviceSpan<Half> output, int rows, CudaStream stream) =>
        MarlinGemm.Multiply(runtime, input, weights, output, rows, stream);
    public override void Dispose() => weights.Dispose();

    /// <summary>The streamed kernel with a fused epilogue (decode layers; see <see cref="MarlinGemm.MultiplyFused"/>).</summary>
    public void ForwardFused(DeviceSpan<Half> input, DeviceSpan<Half> output, int rows, CudaStream stream, StreamEpilogue epilogue,
        DeviceSpan<float> rowSquares, float eps)
    {
        var config = MarlinKernelSelector.ChooseFused(rows, OutFeatures, MarlinGemm.KernelGroupSize(weights.Layout), runtime.Device, epilogue);
        MarlinGemm.MultiplyFused(runtime, input, weights, output, rows, stream, config, rowSquares, eps);
    }

    /// <summary>Why a projection of this shape cannot be 4-bit, or null when it can.</summary>
    public static string? Unsupported(int inFeatures, int outFeatures) =>
        inFeatures % 128 != 0 ? $"its input size {inFeatures} is not a multiple of 128"
        : outFeatures % 64 != 0 ? $"its output size {outFeatures} is not a multiple of 64"
        : null;
}
