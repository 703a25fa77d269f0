using MarlinSharp.Cuda;
using MarlinSharp.Kernels;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Layers;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// The Llama forward pass on the GPU over a slot-based KV cache. One <see cref="Forward"/> runs any mix of prefill
/// chunks and single decode tokens for up to <see cref="SlotCount"/> sequences and leaves FP32 logits of the last token of
/// each chunk in <see cref="Logits"/>. Work is queued on the model's own stream; reading results synchronises it.
/// Not thread-safe.
/// </summary>
/// <remarks>
/// Decode steps (one token per sequence) are padded to a <see cref="DecodeBuckets"/> size and replayed from a CUDA
/// graph captured once per (bucket, attention split plan); see <see cref="UseCudaGraphs"/>. Padding rows read a real
/// sequence's cache but never write it: their slot is -1, which rope_append skips. Prefill always runs uncaptured.
/// <see cref="ProfileForward"/> and <see cref="ProfileDecodeStep"/> always run uncaptured and unpadded.
/// </remarks>
public sealed class LlamaModel : IPipelinedStepModel, IDisposable
{
    private readonly MarlinRuntime _runtime;
    private readonly LlamaKernels _kernels;
    private readonly CudaStream _stream;
    private readonly List<IDisposable> _owned = [];
    private readonly DeviceBuffer<int> _meta, _argmax;
    // Views of _meta (ids | positions | slots | seqInfo | lastRows at fixed offsets, so that graphs can bake them in),
    // filled from one of two page-locked host buffers with one stream-ordered copy per step: the host writes a step's
    // metadata while the previous step's copy may still be queued.
    private readonly DeviceSpan<int> _ids, _positions, _slots, _seqInfo, _lastRows, _ringOffset;
    private readonly PinnedStaging _hostMeta = null!;
    private readonly int _metaLength;
    // Every step ends with its greedy tokens in _argmax (where a chained step's embedding reads them) and in one of
    // GreedyRing parts of _greedyRing, mapped host memory that the step's kernel writes directly (the part's offset is
    // _ringOffset, in the metadata). _ringDone[r] is recorded by QueueGreedy after the step that wrote part r.
    private const int GreedyRing = MaxQueuedGreedy + 1;
    private readonly PinnedHostBuffer<int> _greedyRing = null!;
    private readonly CudaEvent[] _ringDone = new CudaEvent[GreedyRing];
    private readonly Queue<(int Part, int Rows)> _greedyQueued = new();
    private int _lastRing = -1, _nextRing;
    private bool _lastQueued;
    private readonly int _sms;
    private readonly Dictionary<(int Rows, int Splits, int KeysPerSplit), CudaGraph> _graphs = [];
    private long _graphScratchVersion = -1;
    private readonly DeviceBuffer<float> _cos, _sin, _partO, _partMl, _logits, _rowSquares;
    private readonly string? _unfusableReason;
    private readonly DeviceBuffer<Half> _hidden, _normed, _qkv, _attn, _delta, _gateUp, _act, _gathered, _logitsHalf;
    private int _lastSequences;
    private StepProfiler? _profiler;    // created by the first profiled step; its events are reused
    private bool _uncaptured;           // inside ProfileForward: no graph replay or capture, no bucket padding
    private const int HoldMicroseconds = 20_000;
    private bool _profiling;            // inside ProfileForward's profiled step: Mark records an event after every op

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
        _sms = runtime.Device.MultiprocessorCount;
        UseCudaGraphs = Environment.GetEnvironmentVariable("MARLINSHARP_NO_GRAPHS") != "1";
        FuseDecodeLayers = Environment.GetEnvironmentVariable("MARLINSHARP_NO_FUSE") != "1";
        _unfusableReason = UnfusableReason(runtime, weights);
        _foldedFp16Layers = weights.Format == LinearFormat.Fp16 && weights.NormsFolded
            && weights.Layers.All(l => l.QkvBias is null && l.OBias is null);
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
            _metaLength = checked(3 * t + 5 * slots + 1);
            _hostMeta = Own(new PinnedStaging(ctx, 2, _metaLength));
            _meta = Own(ctx.Allocate<int>(_metaLength));
            _ids = _meta.Slice(0, t);
            _positions = _meta.Slice(t, t);
            _slots = _meta.Slice(2L * t, t);
            _seqInfo = _meta.Slice(3L * t, 4L * slots);
            _lastRows = _meta.Slice(3L * t + 4L * slots, slots);
            _ringOffset = _meta.Slice(3L * t + 5L * slots, 1);
            _argmax = Own(ctx.Allocate<int>(slots));
            _greedyRing = Own(ctx.AllocatePinned<int>(GreedyRing * slots, mapped: true));
            for (int r = 0; r < GreedyRing; r++) _ringDone[r] = Own(ctx.CreateEvent(timing: false));
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
            _rowSquares = Own(ctx.Allocate<float>((long)MarlinKernelSelector.MaxFusedRows * Math.Max(1, h / 16)));
            if (Environment.GetEnvironmentVariable("MARLINSHARP_NO_GEMM_TUNING") == "1") { }
            else if (Environment.GetEnvironmentVariable("NV_SANITIZER_INJECTION_PORT_BASE") is not null)
                // Timings mean nothing under compute-sanitizer, and its racecheck stops the process inside some cuBLASLt
                // candidates (docs/NOTES.md, step 122): such runs keep cublasGemmEx's choices.
                Fp16GemmTuningSkipped = "running under compute-sanitizer";
            else
                TuneFp16Gemms(runtime);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// The cuBLAS algorithm of each FP16 GEMM a decode step runs, chosen by <see cref="Fp16GemmTuner"/> at construction
    /// (the LM head of every model; all four projections of FP16 models), or empty when tuning was off
    /// (MARLINSHARP_NO_GEMM_TUNING=1) or cuBLASLt is missing (<see cref="Fp16GemmTuningSkipped"/> says why).
    /// </summary>
    internal IReadOnlyList<Fp16GemmTuner.Choice> Fp16GemmChoices => _gemmTuner?.Choices ?? [];

    /// <summary>Why the FP16 GEMMs run cublasGemmEx's own choice, or null when they were tuned.</summary>
    public string? Fp16GemmTuningSkipped { get; private set; } = "MARLINSHARP_NO_GEMM_TUNING=1";

    private Fp16GemmTuner? _gemmTuner;

    private void TuneFp16Gemms(MarlinRuntime runtime)
    {
        var sites = new List<Fp16GemmTuner.Site>();
        var layers = Weights.Layers;
        if (Weights.Format == LinearFormat.Fp16)
        {
            bool folded = _foldedFp16Layers;  // O and down add into the residual stream on the folded path
            List<CublasLinear> Of(Func<LlamaLayerWeights, LinearLayer> pick) => [.. layers.Select(l => ((Fp16Linear)pick(l)).Cublas)];
            sites.Add(new("qkv", Of(l => l.Qkv), false));
            sites.Add(new("o", Of(l => l.O), folded));
            sites.Add(new("gate|up", Of(l => l.GateUp), false));
            sites.Add(new("down", Of(l => l.Down), folded));
        }
        if (Weights.LmHead is Fp16Linear head) sites.Add(new("lm_head", [head.Cublas], false));
        try
        {
            _gemmTuner = Own(Fp16GemmTuner.Tune(runtime, _kernels, _stream, sites, DecodeBuckets.All(DecodeBucketLimit)));
            Fp16GemmTuningSkipped = null;
        }
        catch (CudaUnavailableException e)
        {
            Fp16GemmTuningSkipped = e.Message;
        }
        catch (CudaException e)
        {
            // Tuning only picks among algorithms that all compute the same product: a failure to time them leaves every
            // GEMM on cublasGemmEx (the tuner has returned the layers it routed) rather than failing the model.
            _stream.Synchronize();
            Fp16GemmTuningSkipped = $"timing the cuBLAS algorithms failed: {e.Message}";
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

    /// <summary>
    /// Whether steps run fused kernels (default true; false when the environment variable MARLINSHARP_NO_FUSE is 1).
    /// INT4 decode steps run rotary embedding, KV-cache append and attention as one kernel. Steps of at most
    /// <see cref="MarlinKernelSelector.MaxFusedRows"/> tokens also run the residual adds, RMSNorms and SwiGLU in the
    /// epilogues of the streamed INT4 GEMMs (<see cref="StreamEpilogue"/>), so a decoder layer is four GEMMs and attention;
    /// that part takes effect only where <see cref="FusionUnavailableReason"/> is null. FP16 decode steps of weights with
    /// <see cref="LlamaWeights.NormsFolded"/> run without RMSNorm kernels (O and down add into the residual stream, and
    /// the row factor 1/rms goes into the rotary and SwiGLU kernels).
    /// </summary>
    public bool FuseDecodeLayers
    {
        get => _fuse;
        set
        {
            if (value != _fuse) DropGraphs();
            _fuse = value;
        }
    }

    private bool _fuse;

    /// <summary>
    /// Whether decode steps run rotary embedding and the KV-cache append inside attention (when <see cref="FuseDecodeLayers"/>;
    /// default true, false when MARLINSHARP_NO_FUSED_ROPE is 1, to measure it alone).
    /// </summary>
    public bool FuseRopeIntoAttention
    {
        get => _fuseRope;
        set
        {
            if (value != _fuseRope) DropGraphs();
            _fuseRope = value;
        }
    }

    private bool _fuseRope = Environment.GetEnvironmentVariable("MARLINSHARP_NO_FUSED_ROPE") != "1";


    /// <summary>Why this model's layers cannot run fused, or null when they can.</summary>
    public string? FusionUnavailableReason => _unfusableReason;

    /// <summary>The kernels of a fused decode step of <paramref name="rows"/> sequences and what they hold on an SM (see <see cref="DecodeKernelReport"/>).</summary>
    internal IReadOnlyList<string> DescribeDecodeKernels(int rows) =>
        _unfusableReason is null && _fuse ? DecodeKernelReport.Describe(_runtime, Weights, _kernels, rows) : [];

    private static string? UnfusableReason(MarlinRuntime runtime, LlamaWeights weights)
    {
        if (weights.Format != LinearFormat.Int4) return "the linear layers are FP16";
        if (!weights.FusedLayout) return "the INT4 weights are not in the fused layout (intermediate size not a multiple of 32 or hidden size not of 16)";
        if (weights.Layers.Any(l => l.QkvBias is not null || l.OBias is not null)) return "the attention projections have biases";
        if (!runtime.StreamSmallBatches) return "the streamed kernel is turned off (MARLINSHARP_NO_STREAM)";
        if (runtime.Device.ComputeCapabilityMajor < 9) return "the GPU has no thread-block clusters (compute capability below 9.0)";
        return null;
    }

    private bool FusedStep(int tokens) => _fuse && _unfusableReason is null && tokens <= MarlinKernelSelector.MaxFusedRows;

    public LlamaConfig Config { get; }
    public LlamaWeights Weights { get; }
    public KvCache Cache { get; }
    public int VocabSize => Config.VocabSize;
    public int MaxContext { get; }
    public int SlotCount { get; }
    public int MaxBatchTokens { get; }

    /// <summary>
    /// Whether decode steps are padded to a bucket and replayed from captured CUDA graphs (default true; false when the
    /// environment variable MARLINSHARP_NO_GRAPHS is 1). When false every step runs uncaptured and unpadded, as before.
    /// </summary>
    public bool UseCudaGraphs
    {
        get => _useGraphs;
        set
        {
            if (!value) DropGraphs();
            _useGraphs = value;
        }
    }

    private bool _useGraphs;

    /// <summary>
    /// Tests only: with <see cref="UseCudaGraphs"/>, false runs the padded decode step uncaptured (the very launches the
    /// graph holds), to tell capture errors from padding effects.
    /// </summary>
    internal bool CaptureDecodeGraphs { get; set; } = true;

    /// <summary>Decode graphs captured so far (including ones dropped since).</summary>
    public int GraphCaptures { get; private set; }

    /// <summary>Decode steps replayed from a graph so far.</summary>
    public int GraphReplays { get; private set; }

    /// <summary>Why graphs were turned off after a failed capture, or null.</summary>
    public string? GraphsDisabledReason { get; private set; }

    /// <summary>Decode graphs currently held.</summary>
    public int GraphCount => _graphs.Count;

    /// <summary>The largest decode bucket: padded rows must fit the slot-sized and token-sized buffers.</summary>
    public int DecodeBucketLimit => Math.Min(SlotCount, MaxBatchTokens);

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

    /// <summary>
    /// Runs one decode step like <see cref="DecodeStep"/> and returns the GPU time of each operation category, summed over
    /// the layers. The step runs uncaptured and unpadded (no CUDA graph), after one unprofiled warm-up of the same step
    /// (the same tokens at the same positions: the cache ends the same). Synchronises; logits are valid afterwards.
    /// </summary>
    public StepProfile ProfileDecodeStep(IReadOnlyList<DecodeEntry> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var chunks = new SequenceChunk[batch.Count];
        for (int i = 0; i < chunks.Length; i++) chunks[i] = new SequenceChunk(batch[i].Slot, batch[i].Position, [batch[i].Token]);
        return ProfileForward(chunks);
    }

    /// <summary>
    /// Runs one <see cref="Forward"/> step with a timing event after every operation, uncaptured and unpadded, and returns
    /// the GPU time per operation category. <paramref name="warmUp"/> first runs the same step unprofiled (kernel loading,
    /// lazily allocated workspaces), which rewrites the same cache entries. Synchronises.
    /// </summary>
    public StepProfile ProfileForward(IReadOnlyList<SequenceChunk> chunks, bool warmUp = true)
    {
        ValidateChunks(chunks, SlotCount, MaxContext, MaxBatchTokens, VocabSize);
        _profiler ??= Own(new StepProfiler(_stream));
        _uncaptured = true;
        try
        {
            if (warmUp) Forward(chunks);
            // The GPU idles on a spin kernel while the host queues the whole step, so the intervals are GPU time,
            // not the host's launch rate (several microseconds per launch, which graphs remove in real steps).
            _kernels.Hold(HoldMicroseconds, _stream);
            _profiler.Begin();
            _profiling = true;
            Forward(chunks);
            return _profiler.Finish();
        }
        finally
        {
            _profiling = false;
            _uncaptured = false;
        }
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

    public void Forward(IReadOnlyList<SequenceChunk> chunks) => Forward(chunks, chainedRows: null);

    /// <summary>The most greedy readbacks <see cref="QueueGreedy"/> holds unread.</summary>
    public const int MaxQueuedGreedy = 2;

    /// <summary>
    /// Keeps the greedy tokens of the last forward step (every step computes them on the GPU, into host memory) for
    /// <see cref="ReadQueuedGreedy"/>, without waiting for the step: the host can queue the next step first. At most
    /// <see cref="MaxQueuedGreedy"/> may be kept unread.
    /// </summary>
    /// <exception cref="InvalidOperationException">No forward step has run, its tokens are already queued, or too many are unread.</exception>
    public void QueueGreedy()
    {
        if (_lastRing < 0) throw new InvalidOperationException("No forward step has run: there are no tokens to queue.");
        if (_lastQueued) throw new InvalidOperationException("The last forward step's greedy tokens are already queued.");
        if (_greedyQueued.Count >= MaxQueuedGreedy)
            throw new InvalidOperationException($"{MaxQueuedGreedy} greedy readbacks are queued unread; read one (ReadQueuedGreedy) first.");
        _ringDone[_lastRing].Record(_stream);
        _greedyQueued.Enqueue((_lastRing, _lastSequences));
        _lastQueued = true;
    }

    /// <summary>Waits for the oldest readback queued by <see cref="QueueGreedy"/> and copies its tokens (one per sequence of that step).</summary>
    /// <exception cref="InvalidOperationException">Nothing is queued.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than that step's sequence count.</exception>
    public void ReadQueuedGreedy(Span<int> destination)
    {
        if (!_greedyQueued.TryPeek(out var queued)) throw new InvalidOperationException("No greedy tokens are queued (QueueGreedy).");
        if (destination.Length < queued.Rows)
            throw new ArgumentException($"The destination holds {destination.Length} ints; {queued.Rows} are needed.", nameof(destination));
        _greedyQueued.Dequeue();
        _ringDone[queued.Part].Synchronize();
        _greedyRing.Span.Slice(queued.Part * SlotCount, queued.Rows).CopyTo(destination);
    }

    /// <summary>
    /// Queues a decode step whose input token for each entry is the greedy token of row <see cref="ChainedDecodeEntry.PreviousRow"/>
    /// of the last forward step, taken on the GPU. The host need not have read those tokens: steps can run back to back
    /// (with <see cref="QueueGreedy"/> after each, to read them later).
    /// </summary>
    /// <exception cref="InvalidOperationException">No forward step has run.</exception>
    /// <exception cref="ArgumentException">An entry's row, slot or position is out of range, or a slot appears twice.</exception>
    public void ForwardChained(IReadOnlyList<ChainedDecodeEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (_lastSequences == 0)            // every step leaves its greedy tokens in _argmax, one per sequence
            throw new InvalidOperationException("No forward step has run: there are no greedy tokens to chain from.");
        var chunks = new SequenceChunk[entries.Count];
        var rows = new int[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.PreviousRow < 0 || e.PreviousRow >= _lastSequences)
                throw new ArgumentException($"Entry {i}: previous row {e.PreviousRow} is outside 0..{_lastSequences - 1} (the last step's sequences).", nameof(entries));
            chunks[i] = new SequenceChunk(e.Slot, e.Position, [0]);     // token 0 only for validation; the id comes from the GPU
            rows[i] = e.PreviousRow;
        }
        Forward(chunks, rows);
    }

    /// <param name="chainedRows">For a chained decode step: per chunk, the row of _argmax that holds its input token.</param>
    private void Forward(IReadOnlyList<SequenceChunk> chunks, int[]? chainedRows)
    {
        int tokens = ValidateChunks(chunks, SlotCount, MaxContext, MaxBatchTokens, VocabSize);
        int seqs = chunks.Count;
        // A decode step with graphs on runs as `rows` sequences of one token, the real ones first. A profiled step
        // always runs uncaptured and unpadded, so that every op can be followed by a timing event.
        bool graphStep = _useGraphs && tokens == seqs && !_uncaptured;
        int rows = graphStep ? DecodeBuckets.For(seqs, DecodeBucketLimit) : seqs;
        int ring = _nextRing;
        foreach (var q in _greedyQueued)
            if (q.Part == ring)
                throw new InvalidOperationException("A forward step would overwrite greedy tokens that are queued unread; read them (ReadQueuedGreedy) first.");
        int buffer = _hostMeta.Take();
        var meta = _hostMeta.Buffer(buffer).Span;
        var (longestNew, longestContext) = PackMetadata(meta, chunks, chainedRows, rows);
        meta[_metaLength - 1] = ring * SlotCount;

        // One stream-ordered copy: it runs after the previous step has finished reading these buffers, no host wait.
        _hostMeta.Buffer(buffer).CopyToDeviceAsync(_meta, _metaLength, _stream);
        _hostMeta.Recorded(buffer, _stream);
        Mark(StepOps.Metadata);
        if (graphStep) DecodePadded(rows, longestContext);
        else Enqueue(tokens, seqs, longestNew, longestContext);
        _lastSequences = seqs;
        _lastRing = ring;
        _nextRing = (ring + 1) % GreedyRing;
        _lastQueued = false;
    }

    /// <summary>
    /// Writes the step's ids, positions, cache slots, per-sequence info and last rows into <paramref name="meta"/> (laid out
    /// as _meta). A chained chunk's id is −1 − its row of _argmax.
    /// Sequences past chunks.Count (up to <paramref name="rows"/>) are one-token padding rows: token 0 at position 0 with
    /// slot -1 (rope_append then skips the cache write), attending read-only to position 0 of the first real sequence's slot.
    /// </summary>
    private (int LongestNew, int LongestContext) PackMetadata(Span<int> meta, IReadOnlyList<SequenceChunk> chunks, int[]? chainedRows, int rows)
    {
        int t = MaxBatchTokens, slotsTotal = SlotCount;
        var ids = meta.Slice(0, t);
        var positions = meta.Slice(t, t);
        var slots = meta.Slice(2 * t, t);
        var info = meta.Slice(3 * t, 4 * slotsTotal);
        var last = meta.Slice(3 * t + 4 * slotsTotal, slotsTotal);
        int row = 0, longestNew = 0, longestContext = 0;
        for (int s = 0; s < rows; s++)
        {
            bool real = s < chunks.Count;
            var ch = real ? chunks[s] : null;
            int count = ch?.Tokens.Count ?? 1, start = ch?.StartPosition ?? 0;
            info[4 * s] = row;
            info[4 * s + 1] = count;
            info[4 * s + 2] = start;
            info[4 * s + 3] = ch?.Slot ?? chunks[0].Slot;
            for (int i = 0; i < count; i++, row++)
            {
                ids[row] = chainedRows is not null && real ? -1 - chainedRows[s] : ch?.Tokens[i] ?? 0;
                positions[row] = start + i;
                slots[row] = ch?.Slot ?? -1;
            }
            last[s] = row - 1;
            longestNew = Math.Max(longestNew, count);
            longestContext = Math.Max(longestContext, start + count);
        }
        return (longestNew, longestContext);
    }

    /// <summary>Runs a padded decode step of <paramref name="rows"/> sequences: replays its graph, or runs it and captures one.</summary>
    private void DecodePadded(int rows, int longestContext)
    {
        var (splits, keysPerSplit) = AttentionPlan.Decode(rows, Config.NumKeyValueHeads, longestContext, Config.HeadDim, _sms);
        var key = (rows, splits, keysPerSplit);
        // Graphs hold the addresses of the layers' scratch memory; when it is reallocated (a larger GEMM, e.g. in a
        // prefill, grew it) every graph is stale.
        if (_runtime.ScratchVersion(_stream) != _graphScratchVersion) DropGraphs();
        if (CaptureDecodeGraphs && _graphs.TryGetValue(key, out var graph))
        {
            graph.Launch(_stream);
            GraphReplays++;
            return;
        }
        // First step of this shape: run it uncaptured, which also creates whatever the launchers allocate lazily
        // (GEMM workspace, cuBLAS handle, loaded kernels; nothing may allocate or synchronise during capture), then
        // capture the same launches for the next steps. Capturing does not run them.
        Enqueue(rows, rows, 1, longestContext);
        if (!CaptureDecodeGraphs) return;
        long version = _runtime.ScratchVersion(_stream);
        if (version != _graphScratchVersion)
        {
            DropGraphs();
            _graphScratchVersion = version;
        }
        try
        {
            _graphs[key] = _stream.Capture(() => Enqueue(rows, rows, 1, longestContext));
            GraphCaptures++;
        }
        catch (Exception e) when (e is CudaException or EntryPointNotFoundException)
        {
            // This step's results are already queued; later steps run uncaptured.
            GraphsDisabledReason = $"CUDA graph capture failed, decoding without graphs: {e.Message}";
            UseCudaGraphs = false;
        }
    }

    private void DropGraphs()
    {
        // cuGraphExecDestroy of a graph still running frees it once it completes.
        foreach (var g in _graphs.Values) g.Dispose();
        _graphs.Clear();
    }

    /// <summary>Queues the forward pass over the metadata already uploaded (must not allocate or synchronise: it is captured).</summary>
    private void Enqueue(int tokens, int seqs, int longestNew, int longestContext)
    {
        var c = Config;
        var k = _kernels;
        var st = _stream;
        int h = c.HiddenSize, heads = c.NumAttentionHeads, kvh = c.NumKeyValueHeads, inter = c.IntermediateSize;
        float eps = (float)c.RmsNormEps;
        var w = Weights;
        // Mark(op) ends the op just queued for a profiled step (ProfileForward) and does nothing otherwise.
        k.EmbedGather(w.Embedding, _ids, _argmax, _hidden, tokens, h, VocabSize, st);
        Mark(StepOps.Embed);
        if (FusedStep(tokens))
        {
            EnqueueFusedLayers(tokens, seqs, longestNew, longestContext);
            k.RmsNorm(_hidden, w.FinalNorm, _normed, tokens, h, eps, st);
            Mark(StepOps.Norm);
            EnqueueHead(tokens, seqs);
            return;
        }
        if (FoldedFp16Decode(longestNew))
        {
            EnqueueFoldedFp16Layers(tokens, seqs, longestContext);
            k.RmsNorm(_hidden, w.FinalNorm, _normed, tokens, h, eps, st);
            Mark(StepOps.Norm);
            EnqueueHead(tokens, seqs);
            return;
        }
        var skip = DebugSkippedOps;
        for (int l = 0; l < w.Layers.Length; l++)
        {
            var layer = w.Layers[l];
            bool norms = !skip.Contains("norm");
            if (norms && l == 0) k.RmsNorm(_hidden, layer.InputNorm, _normed, tokens, h, eps, st);
            else if (norms) k.AddRmsNorm(_hidden, _delta, layer.InputNorm, _normed, tokens, h, eps, st);
            Mark(StepOps.Norm);

            if (!skip.Contains("qkv")) layer.Qkv.Forward(_normed, _qkv, tokens, st);
            Mark(StepOps.QkvGemm);
            if (layer.QkvBias is not null)
            {
                k.AddBias(_qkv, layer.QkvBias, tokens, layer.Qkv.OutFeatures, st);
                Mark(StepOps.Bias);
            }
            EnqueueAttention(tokens, seqs, longestNew, longestContext, l);
            if (!skip.Contains("o")) layer.O.Forward(_attn, _delta, tokens, st);
            Mark(StepOps.OGemm);
            if (layer.OBias is not null)
            {
                k.AddBias(_delta, layer.OBias, tokens, h, st);
                Mark(StepOps.Bias);
            }

            if (norms) k.AddRmsNorm(_hidden, _delta, layer.PostNorm, _normed, tokens, h, eps, st);
            Mark(StepOps.Norm);
            if (!skip.Contains("gateup")) layer.GateUp.Forward(_normed, _gateUp, tokens, st);
            Mark(StepOps.GateUpGemm);
            if (!skip.Contains("swiglu")) k.SwiGlu(_gateUp, _act, tokens, inter, w.GateUpBlock, st);
            Mark(StepOps.SwiGlu);
            if (!skip.Contains("down")) layer.Down.Forward(_act, _delta, tokens, st);
            Mark(StepOps.DownGemm);
        }
        // Only the last token of each sequence needs logits: add the last residual, gather those rows, then norm and LM head.
        k.AddRmsNorm(_hidden, _delta, w.FinalNorm, _normed, tokens, h, eps, st);
        Mark(StepOps.Norm);
        EnqueueHead(tokens, seqs);
    }

    /// <summary>
    /// The decoder layers of a step of at most <see cref="MarlinKernelSelector.MaxFusedRows"/> tokens with fused epilogues:
    /// _hidden is the residual stream, updated in place by the O and down GEMMs, which also leave the row sums of squares
    /// that the next QKV or gate|up GEMM turns into its RMSNorm (the norm weights are folded into those projections).
    /// </summary>
    private void EnqueueFusedLayers(int tokens, int seqs, int longestNew, int longestContext)
    {
        var c = Config;
        var k = _kernels;
        var st = _stream;
        int h = c.HiddenSize;
        float eps = (float)c.RmsNormEps;
        k.RowSquares(_hidden, _rowSquares, tokens, h, st);
        Mark(StepOps.Norm);
        var layers = Weights.Layers;
        var skip = DebugSkippedOps;
        for (int l = 0; l < layers.Length; l++)
        {
            var layer = layers[l];
            if (!skip.Contains("qkv")) Fused(layer.Qkv).ForwardFused(_hidden, _qkv, tokens, st, StreamEpilogue.Normed, _rowSquares, eps);
            Mark(StepOps.QkvGemm);
            if (!skip.Contains("attention")) EnqueueAttention(tokens, seqs, longestNew, longestContext, l);
            if (!skip.Contains("o")) Fused(layer.O).ForwardFused(_attn, _hidden, tokens, st, StreamEpilogue.Residual, _rowSquares, eps);
            Mark(StepOps.OGemm);
            if (!skip.Contains("gateup")) Fused(layer.GateUp).ForwardFused(_hidden, _act, tokens, st, StreamEpilogue.NormedSwiGlu, _rowSquares, eps);
            Mark(StepOps.GateUpGemm);
            if (!skip.Contains("down")) Fused(layer.Down).ForwardFused(_act, _hidden, tokens, st, StreamEpilogue.Residual, _rowSquares, eps);
            Mark(StepOps.DownGemm);
        }
    }

    /// <summary>
    /// Whether a step runs <see cref="EnqueueFoldedFp16Layers"/>: a decode step (one new token per sequence) of FP16 weights
    /// with the norms folded in and no projection biases, when <see cref="FuseDecodeLayers"/>.
    /// </summary>
    private bool FoldedFp16Decode(int longestNew) => _fuse && longestNew == 1 && _foldedFp16Layers;

    /// <summary>FP16 weights with the norms folded in and no projection biases (fixed at construction: weights do not change).</summary>
    private readonly bool _foldedFp16Layers;

    /// <summary>
    /// The decoder layers of an FP16 decode step whose norms are folded into the QKV and gate|up projections
    /// (<see cref="LlamaWeights.NormsFolded"/>): the cuBLAS GEMMs read the residual stream _hidden itself, O and down add
    /// into it (beta = 1), and each row's 1/rms is applied by attention_decode_rope (which also rotates and appends) and
    /// swiglu_normed, which read the row of _hidden with their inputs. Six launches per layer instead of nine: no RMSNorm
    /// kernels and no rope_append (docs/NOTES.md, steps 112 and 119); with <see cref="FuseRopeIntoAttention"/> off,
    /// rope_append_normed and attention_decode (seven).
    /// </summary>
    private void EnqueueFoldedFp16Layers(int tokens, int seqs, int longestContext)
    {
        var c = Config;
        var k = _kernels;
        var st = _stream;
        int h = c.HiddenSize, heads = c.NumAttentionHeads, kvh = c.NumKeyValueHeads, inter = c.IntermediateSize;
        float eps = (float)c.RmsNormEps;
        var layers = Weights.Layers;
        var skip = DebugSkippedOps;
        for (int l = 0; l < layers.Length; l++)
        {
            var layer = layers[l];
            layer.Qkv.Forward(_hidden, _qkv, tokens, st);
            Mark(StepOps.QkvGemm);
            if (_fuseRope)
            {
                if (!skip.Contains("attention"))
                    k.AttentionDecodeRope(_qkv, _attn, Cache, _seqInfo, _positions, _slots, _cos, _sin, seqs, longestContext, heads, kvh, l, _partO, _partMl, st,
                        new LlamaKernels.ResidualNorm(_hidden, h, eps));
            }
            else
            {
                if (!skip.Contains("rope")) k.RopeAppendNormed(_qkv, _positions, _slots, _cos, _sin, Cache, tokens, heads, kvh, l, _hidden, h, eps, st);
                Mark(StepOps.RopeAppend);
                if (!skip.Contains("attention")) k.AttentionDecode(_qkv, _attn, Cache, _seqInfo, seqs, longestContext, heads, kvh, l, _partO, _partMl, st);
            }
            Mark(StepOps.Attention);
            ((Fp16Linear)layer.O).ForwardAccumulate(_attn, _hidden, tokens, st);
            Mark(StepOps.OGemm);
            layer.GateUp.Forward(_hidden, _gateUp, tokens, st);
            Mark(StepOps.GateUpGemm);
            if (!skip.Contains("swiglu")) k.SwiGluNormed(_gateUp, _act, tokens, inter, _hidden, h, eps, st);
            Mark(StepOps.SwiGlu);
            ((Fp16Linear)layer.Down).ForwardAccumulate(_act, _hidden, tokens, st);
            Mark(StepOps.DownGemm);
        }
    }

    /// <summary>
    /// Development switch for timing experiments (outputs are wrong when set): MARLINSHARP_DEBUG_SKIP_OPS lists fused-layer
    /// ops to leave out of every step (qkv, attention, o, gateup, down; in unfused steps also norm, rope, swiglu), to see what
    /// each costs inside the pipelined chain.
    /// </summary>
    private static readonly HashSet<string> DebugSkippedOps =
        [.. (Environment.GetEnvironmentVariable("MARLINSHARP_DEBUG_SKIP_OPS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static Int4Linear Fused(LinearLayer layer) => (Int4Linear)layer;

    /// <summary>
    /// Rotary embedding, KV-cache append and attention of layer <paramref name="layer"/>. Decode steps (one new token per
    /// sequence) run them as one kernel when <see cref="FuseDecodeLayers"/>; prefill chunks as rope_append + prefill
    /// attention.
    /// </summary>
    private void EnqueueAttention(int tokens, int seqs, int longestNew, int longestContext, int layer)
    {
        var c = Config;
        var k = _kernels;
        var st = _stream;
        int heads = c.NumAttentionHeads, kvh = c.NumKeyValueHeads;
        // Only where the GEMMs launch as programmatic dependents (Marlin): between cuBLAS GEMMs the fused kernel measured
        // slower than rope_append + attention (FP16 llama2-7b batch 1 4.338 against 4.285 ms/token, INT4 1.846 against
        // 1.884; H200, same call, docs/NOTES.md session 5).
        bool fusedRope = _fuse && _fuseRope && longestNew == 1 && Weights.Format == LinearFormat.Int4;
        var skip = DebugSkippedOps;
        if (skip.Contains("attention")) return;
        if (!fusedRope && !skip.Contains("rope"))
        {
            k.RopeAppend(_qkv, _positions, _slots, _cos, _sin, Cache, tokens, heads, kvh, layer, st);
            Mark(StepOps.RopeAppend);
        }
        if (fusedRope)
            k.AttentionDecodeRope(_qkv, _attn, Cache, _seqInfo, _positions, _slots, _cos, _sin, seqs, longestContext, heads, kvh, layer, _partO, _partMl, st);
        else if (longestNew == 1)
            k.AttentionDecode(_qkv, _attn, Cache, _seqInfo, seqs, longestContext, heads, kvh, layer, _partO, _partMl, st);
        else
            k.AttentionPrefill(_qkv, _attn, Cache, _seqInfo, seqs, longestNew, heads, kvh, layer, st);
        Mark(StepOps.Attention);
    }

    /// <summary>Gathers the last row of each sequence from _normed (unless each has one) and runs the LM head and the logits' finish.</summary>
    private void EnqueueHead(int tokens, int seqs)
    {
        var k = _kernels;
        var st = _stream;
        int h = Config.HiddenSize;
        var w = Weights;
        // A decode step (one token per sequence, rows in sequence order) has nothing to gather: its rows are the last ones.
        var lastRows = _normed;
        if (tokens != seqs)
        {
            k.GatherRows(_normed, _lastRows, _gathered, seqs, h, st);
            Mark(StepOps.Gather);
            lastRows = _gathered;
        }
        w.LmHead.Forward(lastRows, _logitsHalf, seqs, st);
        Mark(StepOps.LmHead);
        k.FinishLogits(_logitsHalf, _logits, seqs, VocabSize, _argmax, _greedyRing.DeviceView, _ringOffset, st);
        Mark(StepOps.Logits);
    }

    /// <summary>In a profiled step, records the end of the op just queued under <paramref name="label"/>.</summary>
    private void Mark(string label)
    {
        if (_profiling) _profiler!.Mark(label);
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
        if (_lastRing < 0) throw new InvalidOperationException("No forward step has run: there are no tokens to read.");
        _stream.Synchronize();
        _greedyRing.Span.Slice(_lastRing * SlotCount, _lastSequences).CopyTo(destination);
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
        DropGraphs();
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
