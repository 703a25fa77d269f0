using MarlinSharp.Cuda;
using MarlinSharp.Models.Configuration;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// The key and value caches: FP16 [slot][layer][kv_head][position][head_dim] each, one contiguous slot of
/// <see cref="MaxContext"/> positions per sequence (why not pages: see llama_attention.cu).
/// </summary>
public sealed class KvCache : IDisposable
{
    public KvCache(CudaContext context, LlamaConfig config, int slots, int maxContext)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxContext, 1);
        Slots = slots;
        MaxContext = maxContext;
        Layers = config.NumHiddenLayers;
        KvHeads = config.NumKeyValueHeads;
        HeadDim = config.HeadDim;
        long elements = ElementsFor(config, slots, maxContext);
        Keys = context.Allocate<Half>(elements);
        try
        {
            Values = context.Allocate<Half>(elements);
        }
        catch
        {
            Keys.Dispose();
            throw;
        }
        Allocator = new KvSlotAllocator(slots);
    }

    public int Slots { get; }
    public int MaxContext { get; }
    public int Layers { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public KvSlotAllocator Allocator { get; }
    internal DeviceBuffer<Half> Keys { get; }
    internal DeviceBuffer<Half> Values { get; }

    public long SizeInBytes => Keys.SizeInBytes + Values.SizeInBytes;

    /// <summary>Bytes of keys plus values for a cache of this shape.</summary>
    public static long BytesFor(LlamaConfig config, int slots, int maxContext) => 2 * 2 * ElementsFor(config, slots, maxContext);

    private static long ElementsFor(LlamaConfig config, int slots, int maxContext) =>
        checked((long)slots * config.NumHiddenLayers * config.NumKeyValueHeads * maxContext * config.HeadDim);

    public void Dispose()
    {
        Keys.Dispose();
        Values.Dispose();
    }
}
