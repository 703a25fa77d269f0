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
