using MarlinSharp.Cuda;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// Launchers for llama_ops.cu and llama_attention.cu, compiled for the runtime's device (attention specialised for one
/// head_dim and query-group size). Arguments are checked here before anything is launched; pointers into buffers owned
/// by the caller must stay valid until the stream has run the work.
/// </summary>
internal sealed unsafe class LlamaKernels : IDisposable
{
    /// <summary>
    /// The residual rows whose 1/rms a kernel applies to its input first: the input of an FP16 projection whose norm weight
    /// is folded in (<see cref="LlamaWeights.NormsFolded"/>). <paramref name="Residual"/> holds [rows][<paramref name="Hidden"/>].
    /// </summary>
    internal readonly record struct ResidualNorm(DeviceSpan<Half> Residual, int Hidden, float Eps);

    private const int RowThreads = 256;

    private readonly CudaModule _ops;
    private readonly CudaModule _attention;
    private readonly CudaFunction _hold, _embed, _rmsnorm, _addRmsnorm, _addBias, _rope, _ropeNormed, _swiglu, _swigluNormed, _gather, _finishLogits, _rowSquares;
    private readonly CudaFunction _prefill, _decode, _combine;
    private readonly int _sms;
    private readonly MarlinRuntime _runtime;

    public LlamaKernels(MarlinRuntime runtime, int headDim, int group)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        AttentionPlan.ValidateHeads(group, 1, headDim);
        HeadDim = headDim;
        Group = group;
        string arch = runtime.Device.Architecture;
        _ops = Load(runtime, ModelKernelSources.Ops, arch, OpsOptions);
        try
        {
            _attention = Load(runtime, ModelKernelSources.Attention, arch, AttentionOptions(headDim, group));
        }
        catch
        {
            _ops.Dispose();
            throw;
        }
        _hold = _ops.GetFunction("hold");
        _embed = _ops.GetFunction("embed_gather");
        _rmsnorm = _ops.GetFunction("rmsnorm");
        _addRmsnorm = _ops.GetFunction("add_rmsnorm");
        _addBias = _ops.GetFunction("add_bias");
        _rope = _ops.GetFunction("rope_append");
        _ropeNormed = _ops.GetFunction("rope_append_normed");
        _swiglu = _ops.GetFunction("swiglu");
        _swigluNormed = _ops.GetFunction("swiglu_normed");
        _rowSquares = _ops.GetFunction("row_squares");
        _gather = _ops.GetFunction("gather_rows");
        _finishLogits = _ops.GetFunction("finish_logits");
        _prefill = _attention.GetFunction("attention_prefill");
        _decode = _attention.GetFunction("attention_decode");
        _decode.SetMaxDynamicSharedMemory(DecodeStagedBytes);
        _combine = _attention.GetFunction("attention_combine");
        _sms = runtime.Device.MultiprocessorCount;
        _runtime = runtime;
    }

    public int HeadDim { get; }

    /// <summary>Launch every kernel as a programmatic dependent of the previous one (see MarlinRuntime.OverlapKernels).</summary>
    private bool Overlap => _runtime.OverlapKernels;
    public int Group { get; }

    /// <summary>NVRTC options of llama_ops.cu.</summary>
    public static IReadOnlyList<string> OpsOptions { get; } = ["-std=c++17"];

    /// <summary>NVRTC options of llama_attention.cu for one head shape.</summary>
    public static IReadOnlyList<string> AttentionOptions(int headDim, int group) =>
        ["-std=c++17", $"-DLLAMA_HEAD_DIM={headDim}", $"-DLLAMA_GROUP={group}"];

    private static CudaModule Load(MarlinRuntime runtime, string name, string arch, IReadOnlyList<string> options)
    {
        byte[] cubin = runtime.KernelCache.GetOrCompile(ModelKernelSources.Get(name), name, arch, [.. options, .. KernelCache.DevelopmentOptions], out _);
        return runtime.Context.LoadModule(cubin);
    }

    private static void Need<T>(DeviceSpan<T> span, long count, string name) where T : unmanaged
    {
        if (span.Length < count)
            throw new ArgumentException($"{name} holds {span.Length} elements; {count} are needed.", name);
    }

    private Dim3 GridFor(long count) => new((uint)Math.Clamp((count + 255) / 256, 1, 8L * _sms));

    /// <summary>Keeps the stream busy for <paramref name="microseconds"/> (profiling: lets the host queue a whole step first).</summary>
    public void Hold(int microseconds, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(microseconds);
        ulong ns = (ulong)microseconds * 1000;
        void** args = stackalloc void*[] { &ns };
        _hold.Launch(new Dim3(1), new Dim3(32), 0, stream, args);
    }

    /// <summary>
    /// output[t] = table[ids[t]]; a negative id −1 − r takes the token in <paramref name="chained"/>[r] instead (a chained
    /// decode step's input: the previous step's greedy token of row r, left there by <see cref="ArgmaxRows"/>).
    /// </summary>
    public void EmbedGather(DeviceSpan<Half> table, DeviceSpan<int> ids, DeviceSpan<int> chained, DeviceSpan<Half> output, int tokens, int hidden, int vocab, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        if (hidden % 8 != 0) throw new NotSupportedException($"hidden_size {hidden} must be a multiple of 8.");
        Need(table, (long)vocab * hidden, nameof(table));
        Need(ids, tokens, nameof(ids));
        Need(chained, 1, nameof(chained));
        Need(output, (long)tokens * hidden, nameof(output));
        ulong t = table.Pointer, i = ids.Pointer, c = chained.Pointer, o = output.Pointer;
        void** args = stackalloc void*[] { &t, &i, &c, &o, &hidden, &vocab };
        _embed.Launch(new Dim3((uint)tokens), new Dim3(128), 0, stream, args, overlapPrevious: Overlap);
    }

    public void RmsNorm(DeviceSpan<Half> x, DeviceSpan<Half> weight, DeviceSpan<Half> output, int rows, int hidden, float eps, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        int threads = NormThreads(hidden);
        Need(x, (long)rows * hidden, nameof(x));
        Need(weight, hidden, nameof(weight));
        Need(output, (long)rows * hidden, nameof(output));
        Aligned(x, nameof(x));
        Aligned(weight, nameof(weight));
        Aligned(output, nameof(output));
        ulong xp = x.Pointer, w = weight.Pointer, o = output.Pointer;
        void** args = stackalloc void*[] { &xp, &w, &o, &hidden, &eps };
        _rmsnorm.Launch(new Dim3((uint)rows), new Dim3((uint)threads), 0, stream, args, overlapPrevious: Overlap);
    }

    public void AddRmsNorm(DeviceSpan<Half> residual, DeviceSpan<Half> delta, DeviceSpan<Half> weight, DeviceSpan<Half> output,
        int rows, int hidden, float eps, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        int threads = NormThreads(hidden);
        Need(residual, (long)rows * hidden, nameof(residual));
        Need(delta, (long)rows * hidden, nameof(delta));
        Need(weight, hidden, nameof(weight));
        Need(output, (long)rows * hidden, nameof(output));
        Aligned(residual, nameof(residual));
        Aligned(delta, nameof(delta));
        Aligned(weight, nameof(weight));
        Aligned(output, nameof(output));
        ulong r = residual.Pointer, d = delta.Pointer, w = weight.Pointer, o = output.Pointer;
        void** args = stackalloc void*[] { &r, &d, &w, &o, &hidden, &eps };
        _addRmsnorm.Launch(new Dim3((uint)rows), new Dim3((uint)threads), 0, stream, args, overlapPrevious: Overlap);
    }

    /// <summary>Vectors of 8 halves each thread of a norm kernel holds (norm_vecs in llama_ops.cu).</summary>
    internal const int NormVectorsPerThread = 4;

    /// <summary>
    /// Threads of the one block per row of the norm kernels: about two 16-byte vectors each (all loads of a row in
    /// flight at once), a multiple of 32, at most 1024. Throws for a hidden size the kernels cannot hold.
    /// </summary>
    internal static int NormThreads(int hidden)
    {
        if (hidden < 8 || hidden % 8 != 0 || hidden > 8 * NormVectorsPerThread * 1024)
            throw new NotSupportedException($"hidden_size {hidden} is not supported by the norm kernels (a multiple of 8, at most {8 * NormVectorsPerThread * 1024}).");
        int vectors = hidden / 8;
        int threads = (vectors + 1) / 2;
        threads = (threads + 31) / 32 * 32;
        threads = Math.Clamp(threads, 32, 1024);
        return threads;
    }

    private static void Aligned<T>(DeviceSpan<T> span, string name) where T : unmanaged
    {
        if (span.Pointer % 16 != 0)
            throw new ArgumentException($"{name} must start on a 16-byte boundary (address 0x{span.Pointer:x}).", name);
    }

    public void AddBias(DeviceSpan<Half> x, DeviceSpan<Half> bias, int rows, int cols, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ulong total = (ulong)rows * (ulong)cols;
        Need(x, (long)total, nameof(x));
        Need(bias, cols, nameof(bias));
        ulong xp = x.Pointer, b = bias.Pointer;
        void** args = stackalloc void*[] { &xp, &b, &cols, &total };
        _addBias.Launch(GridFor((long)total), new Dim3(256), 0, stream, args, overlapPrevious: Overlap);
    }

    /// <summary>
    /// Rotates the query and key heads of each token in place; when <paramref name="cache"/> is given, also writes the
    /// rotated keys and the values to the cache at (slots[t], layer, positions[t]).
    /// </summary>
    public void RopeAppend(DeviceSpan<Half> qkv, DeviceSpan<int> positions, DeviceSpan<int> slots, DeviceSpan<float> cos, DeviceSpan<float> sin,
        KvCache? cache, int tokens, int heads, int kvHeads, int layer, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        int headDim = HeadDim, stride = (heads + 2 * kvHeads) * headDim;
        Need(qkv, (long)tokens * stride, nameof(qkv));
        Need(positions, tokens, nameof(positions));
        if (cache is not null) Need(slots, tokens, nameof(slots));
        if (cos.Length != sin.Length || cos.Length % (headDim / 2) != 0)
            throw new ArgumentException("cos and sin must both be [positions][head_dim/2].", nameof(sin));
        int numLayers = cache?.Layers ?? 1, maxCtx = cache?.MaxContext ?? 0;
        if (cache is not null && (layer < 0 || layer >= numLayers)) throw new ArgumentOutOfRangeException(nameof(layer));
        ulong q = qkv.Pointer, p = positions.Pointer, s = slots.Pointer, c = cos.Pointer, sn = sin.Pointer;
        ulong k = cache?.Keys.Pointer ?? 0, v = cache?.Values.Pointer ?? 0;
        void** args = stackalloc void*[] { &q, &p, &s, &c, &sn, &k, &v, &stride, &heads, &kvHeads, &headDim, &layer, &numLayers, &maxCtx };
        _rope.Launch(new Dim3((uint)tokens, (uint)(heads + 2 * kvHeads)), new Dim3((uint)(headDim / 2)), 0, stream, args, overlapPrevious: Overlap);
    }

    /// <summary>
    /// <see cref="RopeAppend"/> for a decode step whose QKV projection has the input norm's weight folded in: every value
    /// of row t is first scaled by 1/rms of <paramref name="residual"/>[t] (the GEMM's input), then rotated and appended.
    /// </summary>
    public void RopeAppendNormed(DeviceSpan<Half> qkv, DeviceSpan<int> positions, DeviceSpan<int> slots, DeviceSpan<float> cos, DeviceSpan<float> sin,
        KvCache cache, int tokens, int heads, int kvHeads, int layer, DeviceSpan<Half> residual, int hidden, float eps, CudaStream stream)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        int headDim = HeadDim, stride = (heads + 2 * kvHeads) * headDim, half = headDim / 2;
        Need(qkv, (long)tokens * stride, nameof(qkv));
        Need(positions, tokens, nameof(positions));
        Need(slots, tokens, nameof(slots));
        NormedRow(residual, tokens, hidden);
        if (cos.Length != sin.Length || cos.Length % half != 0)
            throw new ArgumentException("cos and sin must both be [positions][head_dim/2].", nameof(sin));
        int numLayers = cache.Layers, maxCtx = cache.MaxContext;
        if (layer < 0 || layer >= numLayers) throw new ArgumentOutOfRangeException(nameof(layer));
        int perBlock = Math.Max(1, 256 / half), headsTotal = heads + 2 * kvHeads;
        ulong q = qkv.Pointer, p = positions.Pointer, s = slots.Pointer, c = cos.Pointer, sn = sin.Pointer;
        ulong k = cache.Keys.Pointer, v = cache.Values.Pointer, x = residual.Pointer;
        void** args = stackalloc void*[] { &q, &p, &s, &c, &sn, &k, &v, &stride, &heads, &kvHeads, &headDim, &layer, &numLayers, &maxCtx, &x, &hidden, &eps };
        _ropeNormed.Launch(new Dim3((uint)tokens, (uint)((headsTotal + perBlock - 1) / perBlock)), new Dim3((uint)(perBlock * half)), 0, stream, args,
            overlapPrevious: Overlap);
    }

    /// <summary>
    /// <see cref="SwiGlu"/> in the plain [gate | up] order for a gate|up projection with the post-attention norm's weight
    /// folded in: gate and up of row r are first scaled by 1/rms of <paramref name="residual"/>[r].
    /// </summary>
    public void SwiGluNormed(DeviceSpan<Half> gateUp, DeviceSpan<Half> output, int rows, int inter, DeviceSpan<Half> residual, int hidden, float eps, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (inter < 8 || inter % 8 != 0) throw new NotSupportedException($"intermediate_size {inter} must be a positive multiple of 8.");
        Need(gateUp, 2L * rows * inter, nameof(gateUp));
        Need(output, (long)rows * inter, nameof(output));
        Aligned(gateUp, nameof(gateUp));
        Aligned(output, nameof(output));
        NormedRow(residual, rows, hidden);
        const int threads = 256;
        ulong g = gateUp.Pointer, o = output.Pointer, x = residual.Pointer;
        void** args = stackalloc void*[] { &g, &o, &inter, &x, &hidden, &eps };
        _swigluNormed.Launch(new Dim3((uint)((inter / 8 + threads - 1) / threads), (uint)rows), new Dim3(threads), 0, stream, args, overlapPrevious: Overlap);
    }

    /// <summary>Checks the residual rows that a normed kernel reduces (hidden a positive multiple of 8, 16-byte aligned).</summary>
    private static void NormedRow(DeviceSpan<Half> residual, int rows, int hidden)
    {
        if (hidden < 8 || hidden % 8 != 0) throw new NotSupportedException($"hidden_size {hidden} must be a positive multiple of 8.");
        Need(residual, (long)rows * hidden, nameof(residual));
        Aligned(residual, nameof(residual));
    }

    /// <summary>
    /// output = silu(gate) · up from a fused gate|up buffer whose columns alternate in blocks of <paramref name="block"/>
    /// (gate block, then the matching up block); <paramref name="block"/> = <paramref name="inter"/> is the plain [gate | up] order.
    /// </summary>
    public void SwiGlu(DeviceSpan<Half> gateUp, DeviceSpan<Half> output, int rows, int inter, int block, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inter, 1);
        if (block < 1 || inter % block != 0)
            throw new ArgumentOutOfRangeException(nameof(block), block, $"The column block must divide the intermediate size {inter}.");
        ulong total = (ulong)rows * (ulong)inter;
        Need(gateUp, 2 * (long)total, nameof(gateUp));
        Need(output, (long)total, nameof(output));
        ulong g = gateUp.Pointer, o = output.Pointer;
        void** args = stackalloc void*[] { &g, &o, &inter, &block, &total };
        _swiglu.Launch(GridFor((long)total), new Dim3(256), 0, stream, args, overlapPrevious: Overlap);
    }

    /// <summary>rowSquares[r][b] = Σ x[r][16b..16b+15]² (FP32), what the streamed GEMM's normed epilogues read.</summary>
    public void RowSquares(DeviceSpan<Half> x, DeviceSpan<float> rowSquares, int rows, int hidden, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (hidden < 16 || hidden % 16 != 0) throw new NotSupportedException($"hidden_size {hidden} must be a positive multiple of 16.");
        Need(x, (long)rows * hidden, nameof(x));
        Need(rowSquares, (long)rows * (hidden / 16), nameof(rowSquares));
        Aligned(x, nameof(x));
        ulong xp = x.Pointer, sq = rowSquares.Pointer;
        void** args = stackalloc void*[] { &xp, &sq, &hidden };
        _rowSquares.Launch(new Dim3((uint)rows), new Dim3(128), 0, stream, args, overlapPrevious: Overlap);
    }

    public void GatherRows(DeviceSpan<Half> x, DeviceSpan<int> rows, DeviceSpan<Half> output, int count, int cols, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (cols < 8 || cols % 8 != 0) throw new NotSupportedException($"Row width {cols} must be a positive multiple of 8.");
        Need(rows, count, nameof(rows));
        Need(output, (long)count * cols, nameof(output));
        Aligned(x, nameof(x));
        Aligned(output, nameof(output));
        ulong xp = x.Pointer, r = rows.Pointer, o = output.Pointer;
        void** args = stackalloc void*[] { &xp, &r, &o, &cols };
        _gather.Launch(new Dim3((uint)count), new Dim3(256), 0, stream, args, overlapPrevious: Overlap);
    }

    /// <summary>
    /// Per row: <paramref name="logits"/> = FP32 of <paramref name="logitsHalf"/>, and the greedy token (first index of
    /// the largest logit; 0 when none is largest) into <paramref name="greedy"/>[row] and
    /// <paramref name="greedyHost"/>[ringOffset[0] + row] (device-visible memory, e.g. mapped page-locked host memory).
    /// </summary>
    public void FinishLogits(DeviceSpan<Half> logitsHalf, DeviceSpan<float> logits, int rows, int cols, DeviceSpan<int> greedy,
        DeviceSpan<int> greedyHost, DeviceSpan<int> ringOffset, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        Need(logitsHalf, (long)rows * cols, nameof(logitsHalf));
        Need(logits, (long)rows * cols, nameof(logits));
        Need(greedy, rows, nameof(greedy));
        Need(greedyHost, rows, nameof(greedyHost));
        Need(ringOffset, 1, nameof(ringOffset));
        if (cols % 8 == 0)
        {
            Aligned(logitsHalf, nameof(logitsHalf));
            Aligned(logits, nameof(logits));
        }
        ulong xh = logitsHalf.Pointer, x = logits.Pointer, g = greedy.Pointer, gh = greedyHost.Pointer, r = ringOffset.Pointer;
        void** args = stackalloc void*[] { &xh, &x, &cols, &g, &gh, &r };
        _finishLogits.Launch(new Dim3((uint)rows), new Dim3(1024), 0, stream, args, overlapPrevious: Overlap);
    }

    /// <summary>Causal attention of every new token of every sequence (seqInfo: offset, length, start, slot per sequence).</summary>
    public void AttentionPrefill(DeviceSpan<Half> qkv, DeviceSpan<Half> output, KvCache cache, DeviceSpan<int> seqInfo,
        int sequences, int longestNew, int heads, int kvHeads, int layer, CudaStream stream)
    {
        ValidateAttention(cache, seqInfo, sequences, heads, kvHeads, layer);
        ArgumentOutOfRangeException.ThrowIfLessThan(longestNew, 1);
        int stride = (heads + 2 * kvHeads) * HeadDim, numLayers = cache.Layers, maxCtx = cache.MaxContext;
        float scaleLog2 = ScaleLog2;
        ulong q = qkv.Pointer, o = output.Pointer, k = cache.Keys.Pointer, v = cache.Values.Pointer, si = seqInfo.Pointer;
        void** args = stackalloc void*[] { &q, &o, &k, &v, &si, &stride, &heads, &kvHeads, &layer, &numLayers, &maxCtx, &scaleLog2 };
        _prefill.Launch(new Dim3((uint)((longestNew + 15) / 16), (uint)heads, (uint)sequences), new Dim3(128), 0, stream, args, overlapPrevious: Overlap);
    }

    /// <summary>Attention of the last new token of each sequence over its whole cache, split as <see cref="AttentionPlan.Decode"/> says.</summary>
    public void AttentionDecode(DeviceSpan<Half> qkv, DeviceSpan<Half> output, KvCache cache, DeviceSpan<int> seqInfo,
        int sequences, int longestContext, int heads, int kvHeads, int layer, DeviceSpan<float> partO, DeviceSpan<float> partMl, CudaStream stream)
    {
        ValidateAttention(cache, seqInfo, sequences, heads, kvHeads, layer);
        var (splits, keysPerSplit) = AttentionPlan.Decode(sequences, kvHeads, longestContext, HeadDim, _sms);
        if (splits > 1)
        {
            Need(partO, (long)sequences * heads * splits * HeadDim, nameof(partO));
            Need(partMl, (long)sequences * heads * splits * 2, nameof(partMl));
        }
        int stride = (heads + 2 * kvHeads) * HeadDim, numLayers = cache.Layers, maxCtx = cache.MaxContext;
        float scaleLog2 = ScaleLog2;
        ulong q = qkv.Pointer, o = output.Pointer, k = cache.Keys.Pointer, v = cache.Values.Pointer, si = seqInfo.Pointer;
        ulong po = partO.Pointer, pm = partMl.Pointer;
        void** args = stackalloc void*[] { &q, &o, &k, &v, &si, &po, &pm, &stride, &heads, &kvHeads, &layer, &numLayers, &maxCtx, &scaleLog2, &keysPerSplit };
        int staged = StagesDecodeTiles(_decode, ref _decodeResidentBlocks, (long)sequences * kvHeads * splits) ? DecodeStagedBytes : 0;
        _decode.Launch(new Dim3((uint)sequences, (uint)kvHeads, (uint)splits), new Dim3(DecodeThreads), staged, stream, args, overlapPrevious: Overlap);
        if (splits > 1) LaunchCombine(partO, partMl, seqInfo, output, sequences, heads, splits, stream);
    }

    /// <summary>Threads of a decode attention block (32 * att::d_warps in llama_attention.cu).</summary>
    private uint DecodeThreads => (uint)(32 * (HeadDim <= 128 ? 4 : 2));

    /// <summary>attention_decode_rope, looked up on first use.</summary>
    private CudaFunction? _decodeRope;

    /// <summary>
    /// A decode step's rotary embedding, KV-cache append and attention in one launch (attention_decode_rope): the same
    /// results as <see cref="RopeAppend"/> followed by <see cref="AttentionDecode"/>, one kernel fewer. One token row per
    /// sequence: rows 0..sequences-1 of <paramref name="qkv"/>, unrotated (and left so). <paramref name="positions"/> and
    /// <paramref name="slots"/> are per row; the rotated key and the value of a row go to the cache at (slots[row],
    /// <paramref name="layer"/>, positions[row]), which must be the last context position of the row's sequence in its
    /// own slot; slot -1 marks a padding row, which writes nothing and reads the cache like <see cref="AttentionDecode"/>.
    /// cos/sin as for <see cref="RopeAppend"/>, covering at least <paramref name="longestContext"/> positions. With
    /// <paramref name="norm"/> (an FP16 QKV projection with the input norm's weight folded in) each row is first scaled
    /// by 1/rms of its residual row, as <see cref="RopeAppendNormed"/> does: that kernel's launch is saved too.
    /// </summary>
    public void AttentionDecodeRope(DeviceSpan<Half> qkv, DeviceSpan<Half> output, KvCache cache, DeviceSpan<int> seqInfo,
        DeviceSpan<int> positions, DeviceSpan<int> slots, DeviceSpan<float> cos, DeviceSpan<float> sin,
        int sequences, int longestContext, int heads, int kvHeads, int layer, DeviceSpan<float> partO, DeviceSpan<float> partMl, CudaStream stream,
        ResidualNorm? norm = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(stream);
        var (splits, keysPerSplit) = ValidateDecodeRope(HeadDim, Group, _sms, (cache.Layers, cache.KvHeads, cache.HeadDim, cache.MaxContext),
            qkv, output, seqInfo, positions, slots, cos, sin, sequences, longestContext, heads, kvHeads, layer, partO, partMl, norm);
        var decodeRope = DecodeRopeFunction;
        int stride = (heads + 2 * kvHeads) * HeadDim, numLayers = cache.Layers, maxCtx = cache.MaxContext;
        float scaleLog2 = ScaleLog2;
        ulong q = qkv.Pointer, o = output.Pointer, k = cache.Keys.Pointer, v = cache.Values.Pointer, si = seqInfo.Pointer;
        ulong p = positions.Pointer, sl = slots.Pointer, c = cos.Pointer, sn = sin.Pointer, po = partO.Pointer, pm = partMl.Pointer;
        ulong x = norm?.Residual.Pointer ?? 0;
        int hidden = norm?.Hidden ?? 0;
        float eps = norm?.Eps ?? 0f;
        void** args = stackalloc void*[] { &q, &o, &k, &v, &si, &p, &sl, &c, &sn, &po, &pm, &stride, &heads, &kvHeads, &layer, &numLayers, &maxCtx, &scaleLog2, &keysPerSplit,
            &x, &hidden, &eps };
        int staged = StagesDecodeTiles(decodeRope, ref _decodeRopeResidentBlocks, (long)sequences * kvHeads * splits) ? DecodeStagedBytes : 0;
        decodeRope.Launch(new Dim3((uint)sequences, (uint)kvHeads, (uint)splits), new Dim3(DecodeThreads), staged, stream, args, overlapPrevious: Overlap);
        if (splits > 1) LaunchCombine(partO, partMl, seqInfo, output, sequences, heads, splits, stream);
    }

    /// <summary>attention_decode_rope, loaded on first use.</summary>
    internal CudaFunction DecodeRopeFunction
    {
        get
        {
            if (_decodeRope is null)
            {
                _decodeRope = _attention.GetFunction("attention_decode_rope");
                _decodeRope.SetMaxDynamicSharedMemory(DecodeStagedBytes);
            }
            return _decodeRope;
        }
    }

    /// <summary>
    /// attention_decode_rope's footprint for a launch of <paramref name="blocks"/> blocks: registers per thread, static and
    /// dynamic shared memory, and how many blocks fit on one SM with it (for diagnostics).
    /// </summary>
    internal (int Registers, int StaticShared, int DynamicShared, int BlocksPerSm) DecodeRopeFootprint(long blocks)
    {
        var f = DecodeRopeFunction;
        int dynamicShared = StagesDecodeTiles(f, ref _decodeRopeResidentBlocks, blocks) ? DecodeStagedBytes : 0;
        return (f.RegistersPerThread, f.StaticSharedBytes, dynamicShared, f.MaxActiveBlocksPerMultiprocessor((int)DecodeThreads, dynamicShared));
    }

    /// <summary>Dynamic shared memory of both decode kernels: the values of one decode tile, staged before the kernel waits.</summary>
    private int DecodeStagedBytes => AttentionPlan.DecodeTileKeys(HeadDim) * HeadDim * 2;

    private long _decodeResidentBlocks = -1, _decodeRopeResidentBlocks = -1;

    /// <summary>For tests: launch the decode kernels without their staged values whatever the grid (the path of large batches).</summary>
    internal bool NeverStageDecodeTiles { get; set; }

    /// <summary>
    /// Whether a launch of <paramref name="blocks"/> blocks of a decode kernel stages its single-tile splits' values before
    /// it waits: only when every block is resident at once with the staged values' shared memory. A second wave of blocks
    /// costs more than the overlap with the previous kernel saves, and at such grids the GEMM's CTAs fill the SMs anyway.
    /// <paramref name="residentBlocks"/> caches the kernel's capacity (negative: not yet asked).
    /// </summary>
    private bool StagesDecodeTiles(CudaFunction kernel, ref long residentBlocks, long blocks)
    {
        if (NeverStageDecodeTiles) return false;
        if (residentBlocks < 0)
            residentBlocks = (long)kernel.MaxActiveBlocksPerMultiprocessor((int)DecodeThreads, DecodeStagedBytes) * _sms;
        return blocks <= residentBlocks;
    }

    /// <summary>attention_combine: merges the decode splits of each (sequence, head) into <paramref name="output"/>.</summary>
    private void LaunchCombine(DeviceSpan<float> partO, DeviceSpan<float> partMl, DeviceSpan<int> seqInfo, DeviceSpan<Half> output,
        int sequences, int heads, int splits, CudaStream stream)
    {
        ulong po = partO.Pointer, pm = partMl.Pointer, si = seqInfo.Pointer, o = output.Pointer;
        void** args = stackalloc void*[] { &po, &pm, &si, &o, &heads, &splits };
        _combine.Launch(new Dim3((uint)sequences, (uint)heads), new Dim3((uint)HeadDim), 0, stream, args, overlapPrevious: Overlap);
    }

    /// <summary>
    /// Every check of <see cref="AttentionDecodeRope"/> (no GPU needed): head shape against the compiled
    /// <paramref name="headDim"/> and <paramref name="group"/>, the cache's shape, and that every buffer holds what the
    /// kernel reads or writes. Returns the split plan. Throws naming the offending parameter.
    /// </summary>
    internal static (int Splits, int KeysPerSplit) ValidateDecodeRope(int headDim, int group, int multiprocessors,
        (int Layers, int KvHeads, int HeadDim, int MaxContext) cache, DeviceSpan<Half> qkv, DeviceSpan<Half> output, DeviceSpan<int> seqInfo,
        DeviceSpan<int> positions, DeviceSpan<int> slots, DeviceSpan<float> cos, DeviceSpan<float> sin,
        int sequences, int longestContext, int heads, int kvHeads, int layer, DeviceSpan<float> partO, DeviceSpan<float> partMl,
        ResidualNorm? norm = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(kvHeads, 1);
        ValidateHeadsAndCache(headDim, group, cache.Layers, cache.KvHeads, cache.HeadDim, seqInfo, sequences, heads, kvHeads, layer);
        ArgumentOutOfRangeException.ThrowIfLessThan(longestContext, 1);
        if (longestContext > cache.MaxContext)
            throw new ArgumentOutOfRangeException(nameof(longestContext), longestContext, $"The cache holds {cache.MaxContext} positions per slot.");
        int half = headDim / 2;
        long stride = (long)(heads + 2 * kvHeads) * headDim;
        Need(qkv, sequences * stride, nameof(qkv));
        Need(output, (long)sequences * heads * headDim, nameof(output));
        Need(positions, sequences, nameof(positions));
        Need(slots, sequences, nameof(slots));
        if (cos.Length != sin.Length || cos.Length % half != 0)
            throw new ArgumentException("cos and sin must both be [positions][head_dim/2].", nameof(sin));
        if (cos.Length < (long)longestContext * half)
            throw new ArgumentException($"cos and sin cover {cos.Length / half} positions; the context reaches {longestContext}.", nameof(cos));
        if (norm is { } n)
        {
            NormedRow(n.Residual, sequences, n.Hidden);
            if (!(n.Eps > 0f) || !float.IsFinite(n.Eps))
                throw new ArgumentOutOfRangeException(nameof(norm), n.Eps, "The norm's epsilon must be a positive finite number.");
        }
        var plan = AttentionPlan.Decode(sequences, kvHeads, longestContext, headDim, multiprocessors);
        if (plan.Splits > 1)
        {
            Need(partO, (long)sequences * heads * plan.Splits * headDim, nameof(partO));
            Need(partMl, (long)sequences * heads * plan.Splits * 2, nameof(partMl));
        }
        return plan;
    }

    private float ScaleLog2 => (float)(1.0 / Math.Sqrt(HeadDim) / Math.Log(2.0));

    private void ValidateAttention(KvCache cache, DeviceSpan<int> seqInfo, int sequences, int heads, int kvHeads, int layer)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ValidateHeadsAndCache(HeadDim, Group, cache.Layers, cache.KvHeads, cache.HeadDim, seqInfo, sequences, heads, kvHeads, layer);
    }

    /// <summary>The checks every attention launcher shares: heads against the compiled group, the cache's head shape and layers, seqInfo's length.</summary>
    private static void ValidateHeadsAndCache(int headDim, int group, int cacheLayers, int cacheKvHeads, int cacheHeadDim, DeviceSpan<int> seqInfo,
        int sequences, int heads, int kvHeads, int layer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequences, 1);
        if (heads != kvHeads * group) throw new ArgumentException($"heads ({heads}) must be kv_heads ({kvHeads}) × {group}, the group these kernels were compiled for.", nameof(heads));
        if (cacheHeadDim != headDim || cacheKvHeads != kvHeads) throw new ArgumentException("The cache was made for a different head shape.", "cache");
        if (layer < 0 || layer >= cacheLayers) throw new ArgumentOutOfRangeException(nameof(layer));
        Need(seqInfo, 4L * sequences, nameof(seqInfo));
    }

    public void Dispose()
    {
        _attention.Dispose();
        _ops.Dispose();
    }
}
