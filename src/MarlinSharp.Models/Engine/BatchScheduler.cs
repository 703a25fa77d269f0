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
/// <remarks>
/// Pipelined greedy decoding (<see cref="PipelineDecode"/>, with an <see cref="IPipelinedStepModel"/>): while every
/// running sequence is greedy, each <see cref="Step"/> queues the next decode step, fed on the GPU with the tokens of the
/// step in flight, before it reads the tokens of the step in flight. The GPU then never idles while the host reads
/// tokens back, streams them and prepares the next step (a fixed ~0.1 ms per step, 5% of a 7B INT4 step at batch 1).
/// The next step holds the sequences that may go on: one known to end at the step in flight (its token limit or the
/// context) is left out; one that ends on a stop token is not known to, so it takes part and its extra token is
/// dropped (the cache position it writes lies past its end, in a slot that a later prefill overwrites before any read).
/// While requests wait and a slot is free or about to be, nothing is queued ahead, so they are admitted at once.
/// Tokens and finish reasons are exactly those of unpipelined decoding.
/// </remarks>
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
        public bool Done { get; set; }              // finished: tokens of a step queued ahead for it are dropped
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
    private List<Sequence>? _inFlight;          // by row: the sequences of a pipelined decode step whose tokens are unread

    public BatchScheduler(IStepModel model, KvSlotAllocator? slots = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _slots = slots ?? new KvSlotAllocator(model.SlotCount);
        if (_slots.Capacity > model.SlotCount) throw new ArgumentException("The allocator has more slots than the model.", nameof(slots));
        _pipelineDecode = model is IPipelinedStepModel && Environment.GetEnvironmentVariable("MARLINSHARP_NO_PIPELINE") != "1";
    }

    /// <summary>
    /// Whether greedy decode steps are pipelined (see the remarks). True by default when the model is an
    /// <see cref="IPipelinedStepModel"/>, unless the environment variable MARLINSHARP_NO_PIPELINE is 1.
    /// </summary>
    /// <exception cref="ArgumentException">Set to true for a model that is not an <see cref="IPipelinedStepModel"/>.</exception>
    public bool PipelineDecode
    {
        get => _pipelineDecode;
        set
        {
            if (value && _model is not IPipelinedStepModel)
                throw new ArgumentException($"{_model.GetType().Name} cannot pipeline decode steps (it is not an IPipelinedStepModel).", nameof(value));
            _pipelineDecode = value;
        }
    }

    private bool _pipelineDecode;

    /// <summary>Decode steps that took their input tokens on the GPU from the step before (pipelined).</summary>
    public int ChainedSteps { get; private set; }

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
        if (_inFlight is null)
        {
            while (_pending.Count > 0 && _slots.TryAllocate(out int slot))
            {
                var (id, request) = _pending.Dequeue();
                _active.Add(new Sequence(id, request, slot));
            }
            if (_active.Count == 0) return false;

            var prefilling = _active.Where(s => s.Prefilled < s.Request.PromptTokens.Count).ToList();
            if (prefilling.Count > 0) PrefillStep(prefilling);
            else if (_pipelineDecode && _active.All(s => s.Sampler.Options.IsGreedy)) StartPipelinedDecode();
            else DecodeStep();
            if (_inFlight is null) return true;
        }

        // Queue the next step before reading the one in flight, so that the GPU goes on while the host reads.
        var inFlight = _inFlight;
        _inFlight = QueueChainedStep(inFlight);
        var pipelined = (IPipelinedStepModel)_model;
        if (_greedy.Length < inFlight.Count) _greedy = new int[inFlight.Count];
        pipelined.ReadQueuedGreedy(_greedy.AsSpan(0, inFlight.Count));
        for (int i = 0; i < inFlight.Count; i++)
            if (!inFlight[i].Done) Emit(inFlight[i], _greedy[i]);
        return true;
    }

    /// <summary>Queues a decode step of every running (greedy) sequence with its tokens from the host, and its greedy readback.</summary>
    private void StartPipelinedDecode()
    {
        var pipelined = (IPipelinedStepModel)_model;
        var chunks = new List<SequenceChunk>(_active.Count);
        foreach (var s in _active) chunks.Add(new SequenceChunk(s.Slot, s.NextPosition, [s.Generated[^1]]));
        pipelined.Forward(chunks);
        ForwardSteps++;
        pipelined.QueueGreedy();
        _inFlight = [.. _active];
    }

    /// <summary>
    /// Queues the decode step after <paramref name="inFlight"/>, fed with its greedy tokens on the GPU, for the sequences
    /// that may go on; null (nothing queued) when none may, or when waiting requests should be admitted first.
    /// </summary>
    private List<Sequence>? QueueChainedStep(List<Sequence> inFlight)
    {
        bool KnownToEnd(Sequence s) =>
            s.Generated.Count + 1 >= s.Request.MaxNewTokens || s.Request.PromptTokens.Count + s.Generated.Count + 1 > _model.MaxContext;
        if (_pending.Count > 0 && (_slots.Available > 0 || inFlight.Any(s => !s.Done && KnownToEnd(s)))) return null;

        var next = new List<Sequence>(inFlight.Count);
        var entries = new List<ChainedDecodeEntry>(inFlight.Count);
        for (int row = 0; row < inFlight.Count; row++)
        {
            var s = inFlight[row];
            if (s.Done || KnownToEnd(s)) continue;
            // The step in flight writes its token at this position; the chained step feeds it back from there.
            entries.Add(new ChainedDecodeEntry(s.Slot, s.Request.PromptTokens.Count + s.Generated.Count, row));
            next.Add(s);
        }
        if (next.Count == 0) return null;
        var pipelined = (IPipelinedStepModel)_model;
        pipelined.ForwardChained(entries);
        ForwardSteps++;
        ChainedSteps++;
        pipelined.QueueGreedy();
        return next;
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
            Emit(s, allGreedy ? _greedy[i] : s.Sampler.Sample(_logits.AsSpan(i * vocab, vocab)));
        }
    }

    /// <summary>Appends <paramref name="token"/> to <paramref name="s"/>, streams it, and retires the sequence if it has ended.</summary>
    private void Emit(Sequence s, int token)
    {
        s.Generated.Add(token);
        FinishReason? finish =
            s.Request.StopTokens is { } stops && stops.Contains(token) ? FinishReason.StopToken
            : s.Generated.Count >= s.Request.MaxNewTokens ? FinishReason.MaxTokens
            : s.Request.PromptTokens.Count + s.Generated.Count > _model.MaxContext ? FinishReason.ContextFull
            : null;
        s.Request.OnToken?.Invoke(new TokenEvent(s.Id, token, s.Generated.Count - 1, finish));
        if (finish is { } reason)
        {
            s.Done = true;
            _active.Remove(s);
            _slots.Release(s.Slot);
            _finished.Add(new GenerationResult(s.Id, s.Generated.ToArray(), reason));
        }
    }

    private static int[] Slice(IReadOnlyList<int> list, int start, int count)
    {
        var r = new int[count];
        for (int i = 0; i < count; i++) r[i] = list[start + i];
        return r;
    }
}
