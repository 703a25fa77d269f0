using MarlinSharp.Cuda;
using MarlinSharp.Kernels;
using MarlinSharp.Models.Configuration;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// The flags of a fused decode step's handoffs, KV head by KV head: the QKV GEMM raises a head's ready flag once its
/// query, key and value columns are written, attention waits for it instead of for the GEMM's grid and raises the head's
/// done flag, and the o projection's CTAs wait for the done flags of the heads they read instead of for attention's grid.
/// Two counters per layer and KV head, counting up for ever: a step's targets are the running totals the flags reach by
/// its end (the QKV GEMM adds <see cref="ReadyIncrements"/> to every ready flag per step, attention one per sequence to
/// every done flag), carried in the step's metadata, so nothing is reset between steps or graph replays.
/// </summary>
internal sealed class DecodeHandoff : IDisposable
{
    /// <summary>Ints of a step's metadata that carry its targets: the ready flags' total, then the done flags'.</summary>
    public const int MetadataInts = 2;

    private readonly DeviceBuffer<uint> _flags;   // [2][layers][kvHeads]: ready (QKV → attention), then done (attention → o)
    private readonly int _layers, _kvHeads, _heads, _headDim, _readyPerStep;
    private uint _readyTotal, _doneTotal;
    private bool _outOfStep;

    private DecodeHandoff(DeviceBuffer<uint> flags, LlamaConfig config, int readyPerStep)
    {
        _flags = flags;
        _layers = config.NumHiddenLayers;
        _kvHeads = config.NumKeyValueHeads;
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        _readyPerStep = readyPerStep;
    }

    /// <summary>
    /// Flags for <paramref name="config"/>'s layers, zeroed on <paramref name="stream"/>; null (with the reason) when the
    /// QKV projection's chunks do not give every KV head the same number of increments.
    /// </summary>
    public static DecodeHandoff? Create(CudaContext context, LlamaConfig config, CudaStream stream, out string? unavailableReason)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(config);
        int? perStep = ReadyIncrements(config);
        if (perStep is null)
        {
            unavailableReason = $"the QKV projection's 64-column chunks do not cover every KV head alike (head_dim {config.HeadDim}, "
                + $"{config.NumAttentionHeads} heads, {config.NumKeyValueHeads} KV heads)";
            return null;
        }
        var flags = context.Allocate<uint>(2L * config.NumHiddenLayers * config.NumKeyValueHeads);
        try
        {
            flags.FillBytes(0, stream);
        }
        catch
        {
            flags.Dispose();
            throw;
        }
        unavailableReason = null;
        return new DecodeHandoff(flags, config, perStep.Value);
    }

    /// <summary>Increments per KV head that one QKV GEMM gives the ready flags, or null when they differ between heads.</summary>
    public static int? ReadyIncrements(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int n = (config.NumAttentionHeads + 2 * config.NumKeyValueHeads) * config.HeadDim;
        if (n % StreamColumnSignal.ChunkColumns != 0 || config.NumAttentionHeads * config.HeadDim % StreamColumnSignal.ChunkColumns != 0) return null;
        var map = StreamColumnSignal.ForQkv(default, config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim);
        return map.FlagCount(n) == config.NumKeyValueHeads ? map.IncrementsPerFlag(n) : null;
    }

    /// <summary>
    /// Writes the targets of the next handoff step, one of <paramref name="sequences"/> attention blocks per KV head, into
    /// <paramref name="metadata"/> (<see cref="MetadataInts"/> ints). After <see cref="MarkOutOfStep"/> the flags are
    /// zeroed first, on <paramref name="stream"/>, and the totals start again.
    /// </summary>
    public void NextStep(Span<int> metadata, int sequences, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        if (_outOfStep)
        {
            _flags.FillBytes(0, stream);
            _readyTotal = _doneTotal = 0;
            _outOfStep = false;
        }
        unchecked
        {
            _readyTotal += (uint)_readyPerStep;
            _doneTotal += (uint)sequences;
            metadata[0] = (int)_readyTotal;
            metadata[1] = (int)_doneTotal;
        }
    }

    /// <summary>A handoff step failed while it was being queued: some of its kernels may be queued and others not.</summary>
    public void MarkOutOfStep() => _outOfStep = true;

    private DeviceSpan<uint> Ready(int layer) => _flags.Slice((long)layer * _kvHeads, _kvHeads);
    private DeviceSpan<uint> Done(int layer) => _flags.Slice((long)(_layers + layer) * _kvHeads, _kvHeads);

    /// <summary>What layer <paramref name="layer"/>'s QKV GEMM raises.</summary>
    public StreamColumnSignal QkvSignal(int layer) => StreamColumnSignal.ForQkv(Ready(layer), _heads, _kvHeads, _headDim);

    /// <summary>What layer <paramref name="layer"/>'s attention waits for and raises; <paramref name="targets"/> is the step's metadata of <see cref="MetadataInts"/> ints.</summary>
    public AttentionHandoff Attention(int layer, DeviceSpan<uint> targets) => new(Ready(layer), Done(layer), targets.Slice(0, 1));

    /// <summary>What layer <paramref name="layer"/>'s o projection waits for: the done flags of the heads whose rows it reads.</summary>
    public StreamColumnWait OWait(int layer, DeviceSpan<uint> targets) => new(Done(layer), _heads / _kvHeads * _headDim, targets.Slice(1, 1));

    public void Dispose() => _flags.Dispose();
}
