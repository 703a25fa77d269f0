namespace MarlinSharp.Models.Engine;

/// <summary>Why a sequence stopped.</summary>
public enum FinishReason
{
    /// <summary>It produced one of its stop tokens (included in the output).</summary>
    StopToken,
    /// <summary>It produced MaxNewTokens tokens.</summary>
    MaxTokens,
    /// <summary>Its KV slot is full: the last token could not be fed back.</summary>
    ContextFull,
}

/// <summary>A prompt to continue. <paramref name="OnToken"/> is called for every generated token, in order, on the caller's thread.</summary>
public sealed record GenerationRequest(
    IReadOnlyList<int> PromptTokens,
    int MaxNewTokens,
    SamplingOptions? Sampling = null,
    IReadOnlyCollection<int>? StopTokens = null,
    Action<TokenEvent>? OnToken = null);

/// <summary>One streamed token. <see cref="Finish"/> is set on a sequence's last token.</summary>
public readonly record struct TokenEvent(int RequestId, int Token, int Index, FinishReason? Finish);

public sealed record GenerationResult(int RequestId, IReadOnlyList<int> Tokens, FinishReason Finish);

/// <summary>
/// Continuous batching over an <see cref="IStepModel"/>: requests wait until a KV slot is free, are prefilled (several
/// short prompts per step, long prompts in pieces of at most MaxBatchTokens), then decode together one token per step;
/// finished sequences leave and free their slot between steps, so new ones can join. Not thread-safe.
/// </summary>
public sealed class BatchScheduler
{
    private sealed class Sequence(int id, GenerationRequest request, int slot)
    {
        public int Id { get; } = id;
        public GenerationRequest Request { get; } = request;
        public int Slot { get; } = slot;
        public Sampler Sampler { get; } = new(request.Sampling ?? SamplingOptions.Greedy);
        public List<int> Generated { get; } = [];
        public int Prefilled { get; set; }          // prompt tokens already in the cache
        public int NextPosition => Request.PromptTokens.Count + Generated.Count - 1;
    }

    private readonly IStepModel _model;
    private readonly KvSlotAllocator _slots;
    private readonly Queue<(int Id, GenerationRequest Request)> _pending = new();
    private readonly List<Sequence> _active = [];
    private readonly List<GenerationResult> _finished = [];
    private float[] _logits = [];
    private int[] _greedy = [];
    private int _nextId;

    public BatchScheduler(IStepModel model, KvSlotAllocator? slots = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _slots = slots ?? new KvSlotAllocator(model.SlotCount);
        if (_slots.Capacity > model.SlotCount) throw new ArgumentException("The allocator has more slots than the model.", nameof(slots));
    }

    public int PendingCount => _pending.Count;
    public int ActiveCount => _active.Count;
    public IReadOnlyList<GenerationResult> Finished => _finished;
    public int ForwardSteps { get; private set; }

    /// <summary>Queues a request; returns its id.</summary>
    /// <exception cref="ArgumentException">An empty prompt, a prompt longer than the context, or bad options.</exception>
    public int Submit(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.PromptTokens);
        if (request.PromptTokens.Count == 0) throw new ArgumentException("The prompt has no tokens.", nameof(request));
        if (request.PromptTokens.Count > _model.MaxContext)
            throw new ArgumentException($"The prompt has {request.PromptTokens.Count} tokens, more than the context of {_model.MaxContext}.", nameof(request));
        ArgumentOutOfRangeException.ThrowIfLessThan(request.MaxNewTokens, 1, nameof(request.MaxNewTokens));
        foreach (int t in request.PromptTokens)
            if (t < 0 || t >= _model.VocabSize) throw new ArgumentException($"Prompt token {t} is outside the vocabulary (0..{_model.VocabSize - 1}).", nameof(request));
        (request.Sampling ?? SamplingOptions.Greedy).Validate();
        int id = _nextId++;
        _pending.Enqueue((id, request));
        return id;
    }

    /// <summary>Runs one scheduling step (prefill of newly admitted requests, or one decode token for every running one). False when idle.</summary>
    public bool Step()
    {
        while (_pending.Count > 0 && _slots.TryAllocate(out int slot))
        {
            var (id, request) = _pending.Dequeue();
            _active.Add(new Sequence(id, request, slot));
        }
        if (_active.Count == 0) return false;

        var prefilling = _active.Where(s => s.Prefilled < s.Request.PromptTokens.Count).ToList();
        if (prefilling.Count > 0) PrefillStep(prefilling);
        else DecodeStep();
        return true;
    }

    /// <summary>Steps until every submitted request has finished; returns all results in completion order.</summary>
    public IReadOnlyList<GenerationResult> RunToCompletion()
    {
        while (Step()) { }
        return _finished;
    }

    private void PrefillStep(List<Sequence> prefilling)
    {
        var chunks = new List<SequenceChunk>();
        var owners = new List<Sequence>();
        int budget = _model.MaxBatchTokens;
        foreach (var s in prefilling)
        {
            int remaining = s.Request.PromptTokens.Count - s.Prefilled;
            int take = Math.Min(remaining, budget);
            if (take == 0) break;
            chunks.Add(new SequenceChunk(s.Slot, s.Prefilled, Slice(s.Request.PromptTokens, s.Prefilled, take)));
            owners.Add(s);
            budget -= take;
        }
        Run(chunks, owners, sequence => sequence.Prefilled == sequence.Request.PromptTokens.Count);
    }

    private void DecodeStep()
    {
        var chunks = new List<SequenceChunk>(_active.Count);
        foreach (var s in _active) chunks.Add(new SequenceChunk(s.Slot, s.NextPosition, [s.Generated[^1]]));
        Run(chunks, [.. _active], _ => true);
    }

    /// <param name="emits">Whether a sequence produces a token from this step (false for a prompt piece that is not its last).</param>
    private void Run(List<SequenceChunk> chunks, List<Sequence> owners, Func<Sequence, bool> emits)
    {
        _model.Forward(chunks);
        ForwardSteps++;
        for (int i = 0; i < owners.Count; i++)
            if (owners[i].Prefilled < owners[i].Request.PromptTokens.Count) owners[i].Prefilled += chunks[i].Tokens.Count;

        int n = owners.Count, vocab = _model.VocabSize;
        bool allGreedy = owners.All(o => o.Sampler.Options.IsGreedy);
        if (allGreedy)
        {
            if (_greedy.Length < n) _greedy = new int[n];
            _model.ReadGreedy(_greedy.AsSpan(0, n));
        }
        else
        {
            if (_logits.Length < (long)n * vocab) _logits = new float[(long)n * vocab];
            _model.ReadLogits(_logits.AsSpan(0, n * vocab));
        }

        for (int i = 0; i < n; i++)
        {
            var s = owners[i];
            if (!emits(s)) continue;
            int token = allGreedy ? _greedy[i] : s.Sampler.Sample(_logits.AsSpan(i * vocab, vocab));
            s.Generated.Add(token);
            FinishReason? finish =
                s.Request.StopTokens is { } stops && stops.Contains(token) ? FinishReason.StopToken
                : s.Generated.Count >= s.Request.MaxNewTokens ? FinishReason.MaxTokens
                : s.Request.PromptTokens.Count + s.Generated.Count > _model.MaxContext ? FinishReason.ContextFull
                : null;
            s.Request.OnToken?.Invoke(new TokenEvent(s.Id, token, s.Generated.Count - 1, finish));
            if (finish is { } reason)
            {
                _active.Remove(s);
                _slots.Release(s.Slot);
                _finished.Add(new GenerationResult(s.Id, s.Generated.ToArray(), reason));
            }
        }
    }

    private static int[] Slice(IReadOnlyList<int> list, int start, int count)
    {
        var r = new int[count];
        for (int i = 0; i < count; i++) r[i] = list[start + i];
        return r;
    }
}
