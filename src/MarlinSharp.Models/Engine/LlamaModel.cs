using MarlinSharp.Cuda;
using MarlinSharp.Models.Configuration;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// The Llama forward pass on the GPU over a slot-based KV cache. One <see cref="Forward"/> runs any mix of prefill
/// chunks and single decode tokens for up to <see cref="SlotCount"/> sequences and leaves FP32 logits of the last token of
/// each chunk in <see cref="Logits"/>. Work is queued on the model's own stream; reading results synchronises it.
/// Not thread-safe.
/// </summary>
/// <remarks>TODO: capture the decode step in a CUDA graph (per batch size and split plan) to remove launch overhead.</remarks>
public sealed class LlamaModel : IStepModel, IDisposable
{
    private readonly MarlinRuntime _runtime;
    private readonly LlamaKernels _kernels;
    private readonly CudaStream _stream;
    private readonly List<IDisposable> _owned = [];
    private readonly DeviceBuffer<int> _ids, _positions, _slots, _seqInfo, _lastRows, _argmax;
    private readonly DeviceBuffer<float> _cos, _sin, _partO, _partMl, _logits;
    private readonly DeviceBuffer<Half> _hidden, _normed, _qkv, _attn, _delta, _gateUp, _act, _gathered, _logitsHalf;
    private int _lastSequences;

    /// <param name="slots">Sequences that can be cached at once.</param>
    /// <param name="maxContext">Positions per sequence (prompt plus generated); at most max_position_embeddings.</param>
    /// <param name="maxBatchTokens">Most tokens per forward step (longer prompts are prefilled in pieces by the scheduler).</param>
    public LlamaModel(MarlinRuntime runtime, LlamaWeights weights, int slots, int maxContext, int maxBatchTokens = 512)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxContext, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchTokens, 1);
        var c = weights.Config;
        if (maxContext > c.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(maxContext), maxContext, $"The model's max_position_embeddings is {c.MaxPositionEmbeddings}.");
        _runtime = runtime;
        Weights = weights;
        Config = c;
        SlotCount = slots;
        MaxContext = maxContext;
        MaxBatchTokens = maxBatchTokens;

        var ctx = runtime.Context;
        try
        {
            _kernels = Own(new LlamaKernels(runtime, c.HeadDim, c.GroupSize));
            _stream = Own(runtime.CreateStream());
            Cache = Own(new KvCache(ctx, c, slots, maxContext));
            var (cos, sin) = RopeTable.Compute(c, maxContext);
            _cos = Own(ctx.Upload<float>(cos));
            _sin = Own(ctx.Upload<float>(sin));

            int t = maxBatchTokens, h = c.HiddenSize, qkv = (c.NumAttentionHeads + 2 * c.NumKeyValueHeads) * c.HeadDim;
            int q = c.NumAttentionHeads * c.HeadDim, inter = c.IntermediateSize;
            DeviceBuffer<Half> H(long n) => Own(ctx.Allocate<Half>(n));
            _ids = Own(ctx.Allocate<int>(t));
            _positions = Own(ctx.Allocate<int>(t));
            _slots = Own(ctx.Allocate<int>(t));
            _seqInfo = Own(ctx.Allocate<int>(4L * slots));
            _lastRows = Own(ctx.Allocate<int>(slots));
            _argmax = Own(ctx.Allocate<int>(slots));
            _hidden = H((long)t * h);
            _normed = H((long)t * h);
            _qkv = H((long)t * qkv);
            _attn = H((long)t * q);
            _delta = H((long)t * h);
            _gateUp = H((long)t * 2 * inter);
            _act = H((long)t * inter);
            _gathered = H((long)slots * h);
            _logitsHalf = H((long)slots * c.VocabSize);
            _logits = Own(ctx.Allocate<float>((long)slots * c.VocabSize));
            _partO = Own(ctx.Allocate<float>((long)slots * c.NumAttentionHeads * AttentionPlan.MaxSplits * c.HeadDim));
            _partMl = Own(ctx.Allocate<float>((long)slots * c.NumAttentionHeads * AttentionPlan.MaxSplits * 2));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// GPU bytes a model with these limits allocates besides its weights: the KV cache, activations for
    /// <paramref name="maxBatchTokens"/> tokens, logits and attention partials (to check free memory first).
    /// </summary>
    public static long EstimateDeviceBytes(LlamaConfig config, int slots, int maxContext, int maxBatchTokens)
    {
        ArgumentNullException.ThrowIfNull(config);
        long t = maxBatchTokens, h = config.HiddenSize, q = (long)config.NumAttentionHeads * config.HeadDim;
        long qkv = (long)(config.NumAttentionHeads + 2 * config.NumKeyValueHeads) * config.HeadDim, inter = config.IntermediateSize;
        long halves = t * (3 * h + qkv + q + 3 * inter) + slots * h + (long)slots * config.VocabSize;
        long floats = (long)slots * config.VocabSize + (long)slots * config.NumAttentionHeads * AttentionPlan.MaxSplits * (config.HeadDim + 2)
            + 2L * maxContext * config.HeadDim;                     // RoPE cos/sin tables (upper bound)
        long ints = 3 * t + 6L * slots;
        return KvCache.BytesFor(config, slots, maxContext) + 2 * halves + 4 * floats + 4 * ints;
    }

    public LlamaConfig Config { get; }
    public LlamaWeights Weights { get; }
    public KvCache Cache { get; }
    public int VocabSize => Config.VocabSize;
    public int MaxContext { get; }
    public int SlotCount { get; }
    public int MaxBatchTokens { get; }

    /// <summary>The stream the model's work runs on.</summary>
    public CudaStream Stream => _stream;

    /// <summary>FP32 logits [sequences][vocab] of the last forward (valid until the next one).</summary>
    public DeviceSpan<float> Logits => _logits.Slice(0, (long)Math.Max(1, _lastSequences) * VocabSize);

    /// <summary>FP16 logits [sequences][vocab] as the LM head produced them.</summary>
    public DeviceSpan<Half> LogitsHalf => _logitsHalf.Slice(0, (long)Math.Max(1, _lastSequences) * VocabSize);

    /// <summary>Prefills <paramref name="tokens"/> into <paramref name="slot"/> from <paramref name="startPosition"/>; logits [1][vocab] of the last token.</summary>
    public DeviceSpan<float> Prefill(int slot, IReadOnlyList<int> tokens, int startPosition = 0)
    {
        Forward([new SequenceChunk(slot, startPosition, tokens)]);
        return Logits;
    }

    /// <summary>One token for each entry (distinct slots); logits [batch][vocab].</summary>
    public DeviceSpan<float> DecodeStep(IReadOnlyList<DecodeEntry> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var chunks = new SequenceChunk[batch.Count];
        for (int i = 0; i < chunks.Length; i++) chunks[i] = new SequenceChunk(batch[i].Slot, batch[i].Position, [batch[i].Token]);
        Forward(chunks);
        return Logits;
    }

    /// <summary>Checks a step's chunks against the model's limits; throws naming the chunk and the limit.</summary>
    public static int ValidateChunks(IReadOnlyList<SequenceChunk> chunks, int slots, int maxContext, int maxBatchTokens, int vocab)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        if (chunks.Count == 0) throw new ArgumentException("A forward step needs at least one sequence.", nameof(chunks));
        if (chunks.Count > slots) throw new ArgumentException($"{chunks.Count} sequences in one step; the model has {slots} slots.", nameof(chunks));
        var seen = new HashSet<int>();
        int total = 0;
        for (int i = 0; i < chunks.Count; i++)
        {
            var ch = chunks[i] ?? throw new ArgumentException($"Chunk {i} is null.", nameof(chunks));
            if (ch.Slot < 0 || ch.Slot >= slots) throw new ArgumentException($"Chunk {i}: slot {ch.Slot} is outside 0..{slots - 1}.", nameof(chunks));
            if (!seen.Add(ch.Slot)) throw new ArgumentException($"Chunk {i}: slot {ch.Slot} appears twice in one step.", nameof(chunks));
            if (ch.Tokens is null || ch.Tokens.Count == 0) throw new ArgumentException($"Chunk {i} has no tokens.", nameof(chunks));
            if (ch.StartPosition < 0 || ch.StartPosition + ch.Tokens.Count > maxContext)
                throw new ArgumentException($"Chunk {i}: positions {ch.StartPosition}..{ch.StartPosition + ch.Tokens.Count - 1} exceed the context of {maxContext}.", nameof(chunks));
            foreach (int tok in ch.Tokens)
                if (tok < 0 || tok >= vocab) throw new ArgumentException($"Chunk {i}: token id {tok} is outside the vocabulary (0..{vocab - 1}).", nameof(chunks));
            total += ch.Tokens.Count;
        }
        if (total > maxBatchTokens) throw new ArgumentException($"{total} tokens in one step; the model was sized for {maxBatchTokens}.", nameof(chunks));
        return total;
    }

    public void Forward(IReadOnlyList<SequenceChunk> chunks)
    {
        int tokens = ValidateChunks(chunks, SlotCount, MaxContext, MaxBatchTokens, VocabSize);
        int seqs = chunks.Count;
        var ids = new int[tokens];
        var positions = new int[tokens];
        var slots = new int[tokens];
        var info = new int[4 * seqs];
        var last = new int[seqs];
        int row = 0, longestNew = 0, longestContext = 0;
        for (int s = 0; s < seqs; s++)
        {
            var ch = chunks[s];
            info[4 * s] = row;
            info[4 * s + 1] = ch.Tokens.Count;
            info[4 * s + 2] = ch.StartPosition;
            info[4 * s + 3] = ch.Slot;
            for (int i = 0; i < ch.Tokens.Count; i++, row++)
            {
                ids[row] = ch.Tokens[i];
                positions[row] = ch.StartPosition + i;
                slots[row] = ch.Slot;
            }
            last[s] = row - 1;
            longestNew = Math.Max(longestNew, ch.Tokens.Count);
            longestContext = Math.Max(longestContext, ch.StartPosition + ch.Tokens.Count);
        }

        // The host-to-device copies below are synchronous but not ordered with our non-blocking stream: wait for the
        // previous step to finish reading these buffers first.
        _stream.Synchronize();
        _ids.CopyFrom(ids);
        _positions.CopyFrom(positions);
        _slots.CopyFrom(slots);
        _seqInfo.CopyFrom(info);
        _lastRows.CopyFrom(last);

        var c = Config;
        var k = _kernels;
        var st = _stream;
        int h = c.HiddenSize, heads = c.NumAttentionHeads, kvh = c.NumKeyValueHeads, inter = c.IntermediateSize;
        float eps = (float)c.RmsNormEps;
        var w = Weights;
        k.EmbedGather(w.Embedding, _ids, _hidden, tokens, h, VocabSize, st);
        for (int l = 0; l < w.Layers.Length; l++)
        {
            var layer = w.Layers[l];
            if (l == 0) k.RmsNorm(_hidden, layer.InputNorm, _normed, tokens, h, eps, st);
            else k.AddRmsNorm(_hidden, _delta, layer.InputNorm, _normed, tokens, h, eps, st);

            layer.Qkv.Forward(_normed, _qkv, tokens, st);
            if (layer.QkvBias is not null) k.AddBias(_qkv, layer.QkvBias, tokens, layer.Qkv.OutFeatures, st);
            k.RopeAppend(_qkv, _positions, _slots, _cos, _sin, Cache, tokens, heads, kvh, l, st);
            if (longestNew == 1)
                k.AttentionDecode(_qkv, _attn, Cache, _seqInfo, seqs, longestContext, heads, kvh, l, _partO, _partMl, st);
            else
                k.AttentionPrefill(_qkv, _attn, Cache, _seqInfo, seqs, longestNew, heads, kvh, l, st);
            layer.O.Forward(_attn, _delta, tokens, st);
            if (layer.OBias is not null) k.AddBias(_delta, layer.OBias, tokens, h, st);

            k.AddRmsNorm(_hidden, _delta, layer.PostNorm, _normed, tokens, h, eps, st);
            layer.GateUp.Forward(_normed, _gateUp, tokens, st);
            k.SwiGlu(_gateUp, _act, tokens, inter, st);
            layer.Down.Forward(_act, _delta, tokens, st);
        }
        // Only the last token of each sequence needs logits: add the last residual, gather those rows, then norm and LM head.
        k.AddRmsNorm(_hidden, _delta, w.FinalNorm, _normed, tokens, h, eps, st);
        k.GatherRows(_normed, _lastRows, _gathered, seqs, h, st);
        w.LmHead.Forward(_gathered, _logitsHalf, seqs, st);
        k.HalfToFloat(_logitsHalf, _logits, (long)seqs * VocabSize, st);
        _lastSequences = seqs;
    }

    public void ReadLogits(Span<float> destination)
    {
        long n = (long)_lastSequences * VocabSize;
        if (destination.Length < n) throw new ArgumentException($"The destination holds {destination.Length} floats; {n} are needed.", nameof(destination));
        _stream.Synchronize();
        _logits.CopyTo(destination[..(int)n]);
    }

    public void ReadGreedy(Span<int> destination)
    {
        if (destination.Length < _lastSequences) throw new ArgumentException($"The destination holds {destination.Length} ints; {_lastSequences} are needed.", nameof(destination));
        _kernels.ArgmaxRows(_logits, _lastSequences, VocabSize, _argmax, _stream);
        _stream.Synchronize();
        _argmax.CopyTo(destination[.._lastSequences]);
    }

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    public void Dispose()
    {
        try { _stream?.Synchronize(); }
        catch (CudaException) { }
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
