using MarlinSharp.Cuda;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// The flags that hand a decode step's fused attention (attention_decode_rope) over from the QKV GEMM and on to the o
/// projection one KV head at a time, instead of grid by grid (see the file comments of llama_attention.cu and
/// marlin_stream.cu). A block of KV head h waits until <c>Ready[h]</c> reaches <c>ReadyTarget[0]</c>, and adds 1 to
/// <c>Done[h]</c> once its output is written.
/// </summary>
/// <param name="Ready">One counter per KV head, raised by the QKV GEMM (<see cref="Kernels.StreamColumnSignal.ForQkv"/>).</param>
/// <param name="Done">One counter per KV head, raised once by every block of that head (one per sequence).</param>
/// <param name="ReadyTarget">One counter value in device memory: what every ready flag reaches once this step's QKV GEMM has run.</param>
internal readonly record struct AttentionHandoff(DeviceSpan<uint> Ready, DeviceSpan<uint> Done, DeviceSpan<uint> ReadyTarget)
{
    /// <summary>Checks the flags against a launch over <paramref name="kvHeads"/> KV heads split <paramref name="splits"/> ways.</summary>
    public void Validate(int kvHeads, int splits)
    {
        if (splits != 1)
            throw new ArgumentException($"A handoff needs the attention in one split per sequence and KV head; this step's plan has {splits}.", "handoff");
        if (Ready.Length < kvHeads) throw new ArgumentException($"Ready holds {Ready.Length} flags; {kvHeads} KV heads need as many.", nameof(Ready));
        if (Done.Length < kvHeads) throw new ArgumentException($"Done holds {Done.Length} flags; {kvHeads} KV heads need as many.", nameof(Done));
        if (ReadyTarget.Length < 1) throw new ArgumentException("ReadyTarget must hold one counter value.", nameof(ReadyTarget));
    }
}
