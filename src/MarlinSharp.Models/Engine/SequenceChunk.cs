namespace MarlinSharp.Models.Engine;

/// <summary>
/// New tokens of one sequence for a forward step: <paramref name="Tokens"/> go to positions
/// [<paramref name="StartPosition"/>, StartPosition + Tokens.Count) of KV slot <paramref name="Slot"/>, whose positions
/// below StartPosition must already be filled by earlier steps.
/// </summary>
public sealed record SequenceChunk(int Slot, int StartPosition, IReadOnlyList<int> Tokens);

/// <summary>One sequence of a decode step: feed <paramref name="Token"/> at <paramref name="Position"/> of <paramref name="Slot"/>.</summary>
public readonly record struct DecodeEntry(int Slot, int Token, int Position);

/// <summary>What the scheduler needs from a model: one forward step and its outputs.</summary>
public interface IStepModel
{
    int VocabSize { get; }
    int MaxContext { get; }
    int SlotCount { get; }

    /// <summary>Most tokens (summed over sequences) one <see cref="Forward"/> may take.</summary>
    int MaxBatchTokens { get; }

    /// <summary>Runs the chunks (distinct slots) through the model; the outputs are for the last token of each chunk.</summary>
    void Forward(IReadOnlyList<SequenceChunk> chunks);

    /// <summary>FP32 logits [chunks][vocab] of the last <see cref="Forward"/>.</summary>
    void ReadLogits(Span<float> destination);

    /// <summary>Greedy (argmax) token per chunk of the last <see cref="Forward"/>.</summary>
    void ReadGreedy(Span<int> destination);
}

/// <summary>
/// A decode token whose input is not known on the host yet: the greedy token of row <paramref name="PreviousRow"/> of the
/// previous step, at <paramref name="Position"/> in <paramref name="Slot"/>.
/// </summary>
public readonly record struct ChainedDecodeEntry(int Slot, int Position, int PreviousRow);

/// <summary>
/// A step model that can run greedy decode steps back to back, so that the GPU never waits for the host between them:
/// each step's greedy tokens are computed and copied to the host asynchronously (<see cref="QueueGreedy"/>), the next
/// step takes its inputs from them on the GPU (<see cref="ForwardChained"/>), and the host reads them later
/// (<see cref="ReadQueuedGreedy"/>), while the next step runs.
/// </summary>
public interface IPipelinedStepModel : IStepModel
{
    /// <summary>Queues the greedy token of each chunk of the last forward step and their copy to the host.</summary>
    void QueueGreedy();

    /// <summary>Waits for the oldest queued greedy tokens and copies them (one per chunk of that step).</summary>
    void ReadQueuedGreedy(Span<int> destination);

    /// <summary>Runs one decode token per entry, each input being a greedy token of the last step (queued right after it).</summary>
    void ForwardChained(IReadOnlyList<ChainedDecodeEntry> entries);
}
