using MarlinSharp.Cuda;
using MarlinSharp.Kernels;
using MarlinSharp.Models.Configuration;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// The flags of a fused decode step's handoffs, KV head by KV head: the QKV GEMM raises a head's ready flag once its
/// query, key and value columns are written, attention waits for it instead of for the GEMM's grid and raises the head's
/// done flag, and the o projection's CTAs wait for the done flags of the heads they read instead of for attention's grid.
/// Two counters per layer and KV head, counting up for ever: a step's targets are its epoch (the number of handoff steps
/// queued so far, carried in the step's metadata) times the increments per step, so nothing is reset between steps or
/// graph replays.
/// </summary>
internal sealed class DecodeHandoff : IDisposable
{
    private readonly DeviceBuffer<uint> _flags;   // [2][layers][kvHeads]: ready (QKV → attention), then done (attention → o)
    private readonly int _layers, _kvHeads, _heads, _headDim;
    private uint _epoch;
    private bool _outOfStep;

    private DecodeHandoff(DeviceBuffer<uint> flags, LlamaConfig config, int readyExpected)
    {
        _flags = flags;
        _layers = config.NumHiddenLayers;
        _kvHeads = config.NumKeyValueHeads;
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        ReadyExpected = readyExpected;
    }

    /// <summary>Increments a ready flag receives from one QKV GEMM.</summary>
    public int ReadyExpected { get; }

    /// <summary>
    /// Flags for <paramref name="config"/>'s layers, zeroed on <paramref name="stream"/>; null (with the reason) when the
    /// QKV projection's chunks do not give every KV head the same number of increments.
    /// </summary>
    public static DecodeHandoff? Create(CudaContext context, LlamaConfig config, CudaStream stream, out string? unavailableReason)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(config);
        int? expected = ReadyIncrements(config);
        if (expected is null)
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
        return new DecodeHandoff(flags, config, expected.Value);
    }

    /// <summary>Increments per KV head and step from the QKV GEMM's column map, or null when they differ between heads.</summary>
    public static int? ReadyIncrements(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int n = (config.NumAttentionHeads + 2 * config.NumKeyValueHeads) * config.HeadDim;
        if (n % StreamColumnSignal.ChunkColumns != 0 || config.NumAttentionHeads * config.HeadDim % StreamColumnSignal.ChunkColumns != 0) return null;
        var map = StreamColumnSignal.ForQkv(default, config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim);
        return map.FlagCount(n) == config.NumKeyValueHeads ? map.IncrementsPerFlag(n) : null;
    }

    /// <summary>
    /// The epoch of the next handoff step (to go into its metadata). After <see cref="MarkOutOfStep"/> the flags are zeroed
    /// first, on <paramref name="stream"/>, and the count starts again.
    /// </summary>
    public uint NextEpoch(CudaStream stream)
    {
        if (_outOfStep)
        {
            _flags.FillBytes(0, stream);
            _epoch = 0;
            _outOfStep = false;
        }
        return unchecked(++_epoch);
    }

    /// <summary>A handoff step failed while it was being queued: some of its kernels may be queued and others not.</summary>
    public void MarkOutOfStep() => _outOfStep = true;

    private DeviceSpan<uint> Ready(int layer) => _flags.Slice((long)layer * _kvHeads, _kvHeads);
    private DeviceSpan<uint> Done(int layer) => _flags.Slice((long)(_layers + layer) * _kvHeads, _kvHeads);

    /// <summary>What layer <paramref name="layer"/>'s QKV GEMM raises.</summary>
    public StreamColumnSignal QkvSignal(int layer) => StreamColumnSignal.ForQkv(Ready(layer), _heads, _kvHeads, _headDim);

    /// <summary>What layer <paramref name="layer"/>'s attention waits for and raises.</summary>
    public AttentionHandoff Attention(int layer, DeviceSpan<int> epoch) => new(Ready(layer), Done(layer), epoch, ReadyExpected);

    /// <summary>What layer <paramref name="layer"/>'s o projection waits for: one increment per attention block of a head.</summary>
    public StreamColumnWait OWait(int layer, int sequences, DeviceSpan<int> epoch) =>
        new(Done(layer), _heads / _kvHeads * _headDim, sequences, epoch);

    public void Dispose() => _flags.Dispose();
}
