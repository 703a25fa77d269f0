using MarlinSharp.Cuda;
using MarlinSharp.Formats;
using MarlinSharp.Kernels;
using MarlinSharp.Quantization;

namespace MarlinSharp.Layers;

/// <summary>
/// A linear layer y = x · Wᵀ with 4-bit Marlin weights: FP16 activations in and out, FP32 accumulation.
/// Build it from FP16 weights (quantized here with round-to-nearest) or from already packed tensors.
/// </summary>
public sealed class MarlinLinear : IDisposable
{
    private readonly MarlinRuntime _runtime;
    private readonly MarlinDeviceWeights _weights;

    private MarlinLinear(MarlinRuntime runtime, MarlinDeviceWeights weights)
    {
        _runtime = runtime;
        _weights = weights;
    }

    public MarlinLayout Layout => _weights.Layout;
    public int InFeatures => Layout.InFeatures;
    public int OutFeatures => Layout.OutFeatures;
    public int GroupSize => Layout.GroupSize;
    public MarlinDeviceWeights Weights => _weights;

    /// <summary>Quantizes an <c>nn.Linear</c>-style weight [outFeatures][inFeatures] with RTN, packs and uploads it.</summary>
    public static MarlinLinear FromWeights(MarlinRuntime runtime, ReadOnlySpan<Half> linearWeight, int inFeatures, int outFeatures, int groupSize = 128)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var layout = new MarlinLayout(inFeatures, outFeatures, groupSize);
        if (linearWeight.Length != (long)inFeatures * outFeatures)
            throw new ArgumentException($"Expected {(long)inFeatures * outFeatures} weights ([{outFeatures}][{inFeatures}]), got {linearWeight.Length}.", nameof(linearWeight));
        QuantizedWeights q = RtnQuantizer.QuantizeLinear(linearWeight, layout);
        return FromPacked(runtime, MarlinPacker.Pack(q.Codes, q.Scales, layout));
    }

    /// <summary>Uploads weights already in the Marlin format (e.g. a Marlin checkpoint's <c>B</c> and <c>s</c>).</summary>
    public static MarlinLinear FromPacked(MarlinRuntime runtime, MarlinPackedWeights packed)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(packed);
        runtime.ThrowIfDisposed();
        return new MarlinLinear(runtime, MarlinDeviceWeights.Upload(runtime.Context, packed));
    }

    /// <summary>output[rows][OutFeatures] = input[rows][InFeatures] · Wᵀ, asynchronous on <paramref name="stream"/>.</summary>
    public void Forward(DeviceSpan<Half> input, DeviceSpan<Half> output, int rows, CudaStream stream) =>
        MarlinGemm.Multiply(_runtime, input, _weights, output, rows, stream);

    /// <summary>Infers the row count from the input length, which must be a whole number of rows.</summary>
    public void Forward(DeviceBuffer<Half> input, DeviceBuffer<Half> output, CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        int rows = RowsOf(input.Length, InFeatures, nameof(input));
        if (output.Length != (long)rows * OutFeatures)
            throw new ArgumentException($"Output holds {output.Length} halves; {rows} rows of {OutFeatures} need exactly {(long)rows * OutFeatures}.", nameof(output));
        Forward(input, output, rows, stream);
    }

    internal static int RowsOf(long length, int features, string parameter)
    {
        if (length == 0 || length % features != 0)
            throw new ArgumentException($"Input holds {length} halves, which is not a positive whole number of rows of {features} features.", parameter);
        long rows = length / features;
        if (rows > int.MaxValue) throw new ArgumentException($"{rows} rows is too many.", parameter);
        return (int)rows;
    }

    public void Dispose() => _weights.Dispose();
}
