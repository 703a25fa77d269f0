using MarlinSharp.Cuda;
using MarlinSharp.Formats;

namespace MarlinSharp.Layers;

/// <summary>Packed Marlin weights (<c>B</c> and permuted scales) resident on the GPU.</summary>
public sealed class MarlinDeviceWeights : IDisposable
{
    private MarlinDeviceWeights(MarlinLayout layout, DeviceBuffer<int> b, DeviceBuffer<Half> scales)
    {
        Layout = layout;
        B = b;
        Scales = scales;
    }

    public MarlinLayout Layout { get; }
    public DeviceBuffer<int> B { get; }
    public DeviceBuffer<Half> Scales { get; }
    public bool IsDisposed => B.IsDisposed;
    public long SizeInBytes => B.SizeInBytes + Scales.SizeInBytes;

    public static MarlinDeviceWeights Upload(CudaContext context, MarlinPackedWeights packed)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(packed);
        DeviceBuffer<int> b = context.Upload<int>(packed.B);
        try
        {
            return new MarlinDeviceWeights(packed.Layout, b, context.Upload<Half>(packed.Scales));
        }
        catch
        {
            b.Dispose();
            throw;
        }
    }

    /// <summary>Allocates weights of <paramref name="layout"/> whose contents the caller writes (checkpoint loaders, benchmarks).</summary>
    public static MarlinDeviceWeights Allocate(CudaContext context, MarlinLayout layout)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(layout);
        DeviceBuffer<int> b = context.Allocate<int>(layout.PackedWordCount);
        try
        {
            return new MarlinDeviceWeights(layout, b, context.Allocate<Half>((long)layout.ScaleRows * layout.OutFeatures));
        }
        catch
        {
            b.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        B.Dispose();
        Scales.Dispose();
    }
}
