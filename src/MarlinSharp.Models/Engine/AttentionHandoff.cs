using MarlinSharp.Cuda;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// The flags that hand a decode step's fused attention (attention_decode_rope) over from the QKV GEMM and on to the o
/// projection one KV head at a time, instead of grid by grid (see the file comments of llama_attention.cu and
/// marlin_stream.cu). A block of KV head h waits until <c>Ready[h]</c> reaches <c>Epoch[0] × ReadyExpected</c>, and adds
/// 1 to <c>Done[h]</c> once its output is written.
/// </summary>
/// <param name="Ready">One counter per KV head, raised by the QKV GEMM (<see cref="Kernels.StreamColumnSignal.ForQkv"/>).</param>
/// <param name="Done">One counter per KV head, raised once by every block of that head (one per sequence).</param>
/// <param name="Epoch">One int in device memory: the number of handoff steps queued so far, this one included.</param>
/// <param name="ReadyExpected">Increments a ready flag receives per step (<see cref="Kernels.StreamColumnSignal.IncrementsPerFlag"/>).</param>
internal readonly record struct AttentionHandoff(DeviceSpan<uint> Ready, DeviceSpan<uint> Done, DeviceSpan<int> Epoch, int ReadyExpected)
{
    /// <summary>Checks the flags against a launch over <paramref name="kvHeads"/> KV heads split <paramref name="splits"/> ways.</summary>
    public void Validate(int kvHeads, int splits)
    {
        if (splits != 1)
            throw new ArgumentException($"A handoff needs the attention in one split per sequence and KV head; this step's plan has {splits}.", "handoff");
        if (Ready.Length < kvHeads) throw new ArgumentException($"Ready holds {Ready.Length} flags; {kvHeads} KV heads need as many.", nameof(Ready));
        if (Done.Length < kvHeads) throw new ArgumentException($"Done holds {Done.Length} flags; {kvHeads} KV heads need as many.", nameof(Done));
        if (Epoch.Length < 1) throw new ArgumentException("Epoch must hold one int.", nameof(Epoch));
        if (ReadyExpected < 1)
            throw new ArgumentOutOfRangeException(nameof(ReadyExpected), ReadyExpected, "Expected at least one increment per flag and step.");
    }
}
