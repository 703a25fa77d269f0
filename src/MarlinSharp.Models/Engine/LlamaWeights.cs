using MarlinSharp.Cuda;
using MarlinSharp.Formats;
using MarlinSharp.Kernels;
using MarlinSharp.Layers;
using MarlinSharp.Models.Configuration;

namespace MarlinSharp.Models.Engine;

/// <summary>The weights of one decoder layer on the GPU. QKV and gate|up are fused along the output dimension.</summary>
internal sealed class LlamaLayerWeights : IDisposable
{
    public required DeviceBuffer<Half> InputNorm { get; init; }
    public required LinearLayer Qkv { get; init; }
    public DeviceBuffer<Half>? QkvBias { get; init; }
    public required LinearLayer O { get; init; }
    public DeviceBuffer<Half>? OBias { get; init; }
    public required DeviceBuffer<Half> PostNorm { get; init; }
    public required LinearLayer GateUp { get; init; }
    public required LinearLayer Down { get; init; }

    public long DeviceBytes => InputNorm.SizeInBytes + Qkv.WeightBytes + (QkvBias?.SizeInBytes ?? 0) + O.WeightBytes
        + (OBias?.SizeInBytes ?? 0) + PostNorm.SizeInBytes + GateUp.WeightBytes + Down.WeightBytes;

    public void Dispose()
    {
        InputNorm.Dispose();
        Qkv.Dispose();
        QkvBias?.Dispose();
        O.Dispose();
        OBias?.Dispose();
        PostNorm.Dispose();
        GateUp.Dispose();
        Down.Dispose();
    }
}

/// <summary>
/// A Llama-family model's weights on the GPU: loaded from a Hugging Face folder or made up at random on the GPU
/// (benchmarks). Decoder-layer projections are FP16 (cuBLAS) or INT4 (Marlin, group 128); the embedding, the norms and
/// the LM head always stay FP16.
/// </summary>
public sealed class LlamaWeights : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    private LlamaWeights(LlamaConfig config, LinearFormat format)
    {
        Config = config;
        Format = format;
    }

    public LlamaConfig Config { get; }
    public LinearFormat Format { get; }

    /// <summary>
    /// INT4 weights laid out for fused decode layers (<see cref="StreamEpilogue"/>): each RMSNorm weight is folded into
    /// the input features of the projection after it (QKV, gate|up), whose norm buffers then hold ones, and gate|up
    /// columns are interleaved in blocks of <see cref="NormFolding.GateUpBlock"/>. See <see cref="FusedLayoutPossible"/>.
    /// </summary>
    public bool FusedLayout { get; private set; }

    /// <summary>
    /// Whether each RMSNorm weight is folded into the input features of the projection after it (QKV, gate|up), whose
    /// norm buffers then hold ones: INT4 in the <see cref="FusedLayout"/>, and FP16 models without attention biases, whose
    /// decode steps then run without norm kernels (the row factor 1/rms goes into the kernels after the projections).
    /// </summary>
    public bool NormsFolded { get; private set; }

    /// <summary>Whether weights of this shape and format get <see cref="NormsFolded"/>.</summary>
    public static bool NormFoldingPossible(LlamaConfig config, LinearFormat format)
    {
        ArgumentNullException.ThrowIfNull(config);
        return FusedLayoutPossible(config, format)
            || (format == LinearFormat.Fp16 && !config.AttentionBias && config.IntermediateSize % 8 == 0 && config.HiddenSize % 8 == 0);
    }

    /// <summary>The column block of the gate|up output: 32 in the fused layout, the intermediate size otherwise.</summary>
    internal int GateUpBlock => FusedLayout ? NormFolding.GateUpBlock : Config.IntermediateSize;

    /// <summary>Whether INT4 weights of this shape get the fused layout (the intermediate size a multiple of 32, the hidden size of 16).</summary>
    public static bool FusedLayoutPossible(LlamaConfig config, LinearFormat format)
    {
        ArgumentNullException.ThrowIfNull(config);
        return format == LinearFormat.Int4 && config.IntermediateSize % NormFolding.GateUpBlock == 0 && config.HiddenSize % 16 == 0;
    }
    internal DeviceBuffer<Half> Embedding { get; private set; } = null!;
    internal LlamaLayerWeights[] Layers { get; private set; } = [];
    internal DeviceBuffer<Half> FinalNorm { get; private set; } = null!;
    internal LinearLayer LmHead { get; private set; } = null!;

    /// <summary>Bytes of weights on the GPU.</summary>
    public long DeviceBytes => Embedding.SizeInBytes + Layers.Sum(l => l.DeviceBytes) + FinalNorm.SizeInBytes + LmHead.WeightBytes;

    /// <summary>Bytes one decode step streams through the linear layers (decoder projections plus LM head).</summary>
    public long LinearWeightBytes => Layers.Sum(l => l.Qkv.WeightBytes + l.O.WeightBytes + l.GateUp.WeightBytes + l.Down.WeightBytes) + LmHead.WeightBytes;

    /// <summary>
    /// GPU bytes that <see cref="Load(MarlinRuntime, string, LinearFormat, IProgress{string}?)"/> or <see cref="Random"/>
    /// will allocate for this shape and format (embedding, norms, projections, LM head), to check free memory first.
    /// </summary>
    public static long EstimateDeviceBytes(LlamaConfig config, LinearFormat format)
    {
        ArgumentNullException.ThrowIfNull(config);
        long h = config.HiddenSize, q = (long)config.NumAttentionHeads * config.HeadDim, kv = (long)config.NumKeyValueHeads * config.HeadDim;
        long inter = config.IntermediateSize, vocab = config.VocabSize;
        long Linear(long k, long n)
        {
            if (format == LinearFormat.Fp16) return 2 * k * n;
            var layout = new MarlinLayout((int)k, (int)n, Int4Linear.GroupSize);
            return layout.PackedWordCount * 4 + (long)layout.ScaleCount * 2;
        }
        long perLayer = 2 * 2 * h                                   // two norms
            + Linear(h, q + 2 * kv) + (config.AttentionBias ? 2 * (q + 2 * kv) : 0)
            + Linear(q, h) + Linear(h, 2 * inter) + Linear(inter, h);
        return 2 * vocab * h + config.NumHiddenLayers * perLayer + 2 * h + 2 * vocab * h;
    }

    /// <summary>Checks that every decoder projection of <paramref name="config"/> can use <paramref name="format"/>.</summary>
    /// <exception cref="NotSupportedException">A projection shape the INT4 kernel cannot run (the message names it).</exception>
    public static void ValidateFormat(LlamaConfig config, LinearFormat format)
    {
        ArgumentNullException.ThrowIfNull(config);
        AttentionPlan.ValidateHeads(config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim);
        if (config.HiddenSize % 8 != 0) throw new NotSupportedException($"hidden_size {config.HiddenSize} must be a multiple of 8.");
        if (format != LinearFormat.Int4) return;
        int h = config.HiddenSize, q = config.NumAttentionHeads * config.HeadDim, kv = config.NumKeyValueHeads * config.HeadDim, i = config.IntermediateSize;
        foreach (var (name, k, n) in new[] { ("qkv_proj", h, q + 2 * kv), ("o_proj", q, h), ("gate_up_proj", h, 2 * i), ("down_proj", i, h) })
        {
            string? why = Int4Linear.Unsupported(k, n);
            if (why is not null) throw new NotSupportedException($"INT4 is not possible for this model: {name} ({k} → {n}): {why}.");
        }
    }

    /// <summary>Loads and uploads a Hugging Face model folder (see <see cref="LlamaCheckpoint"/> for validation).</summary>
    public static LlamaWeights Load(MarlinRuntime runtime, string modelDirectory, LinearFormat format = LinearFormat.Fp16, IProgress<string>? progress = null)
    {
        using var checkpoint = LlamaCheckpoint.Open(modelDirectory);
        return Load(runtime, checkpoint, format, progress);
    }

    public static LlamaWeights Load(MarlinRuntime runtime, LlamaCheckpoint checkpoint, LinearFormat format = LinearFormat.Fp16, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(checkpoint);
        var c = checkpoint.Config;
        ValidateFormat(c, format);
        var w = new LlamaWeights(c, format) { FusedLayout = FusedLayoutPossible(c, format), NormsFolded = NormFoldingPossible(c, format) };
        try
        {
            var ctx = runtime.Context;
            DeviceBuffer<Half> Vector(string name) => w.Own(ctx.Upload<Half>(checkpoint.ReadHalf(name)));
            LinearLayer Linear(string[] names, int inFeatures, LinearFormat fmt, Half[]? foldedNorm = null, bool interleaveGateUp = false)
            {
                Half[] weights = checkpoint.ReadConcatenated(names);
                if (foldedNorm is not null) NormFolding.FoldIntoInputs(weights, inFeatures, foldedNorm);
                if (interleaveGateUp) weights = NormFolding.InterleaveGateUp(weights, inFeatures);
                int outFeatures = (int)(weights.LongLength / inFeatures);
                return fmt == LinearFormat.Int4
                    ? new Int4Linear(runtime, MarlinLinear.FromWeights(runtime, weights, inFeatures, outFeatures, Int4Linear.GroupSize).Weights)
                    : new Fp16Linear(CublasLinear.FromWeights(runtime, weights, inFeatures, outFeatures));
            }

            progress?.Report("embedding");
            w.Embedding = Vector(LlamaTensorNames.Embedding);
            var layers = new LlamaLayerWeights[c.NumHiddenLayers];
            int h = c.HiddenSize, q = c.NumAttentionHeads * c.HeadDim;
            for (int i = 0; i < layers.Length; i++)
            {
                progress?.Report($"layer {i + 1}/{layers.Length}");
                string L(string s) => LlamaTensorNames.Layer(i, s);
                string[] qkvNames = [L("self_attn.q_proj.weight"), L("self_attn.k_proj.weight"), L("self_attn.v_proj.weight")];
                DeviceBuffer<Half>? qkvBias = c.AttentionBias
                    ? ctx.Upload<Half>(checkpoint.ReadConcatenated([L("self_attn.q_proj.bias"), L("self_attn.k_proj.bias"), L("self_attn.v_proj.bias")]))
                    : null;
                Half[] inputNorm = checkpoint.ReadHalf(L("input_layernorm.weight")), postNorm = checkpoint.ReadHalf(L("post_attention_layernorm.weight"));
                bool fold = w.NormsFolded;
                layers[i] = new LlamaLayerWeights
                {
                    InputNorm = ctx.Upload<Half>(fold ? Ones(h) : inputNorm),
                    Qkv = Linear(qkvNames, h, format, fold ? inputNorm : null),
                    QkvBias = qkvBias,
                    O = Linear([L("self_attn.o_proj.weight")], q, format),
                    OBias = checkpoint.Contains(L("self_attn.o_proj.bias")) ? ctx.Upload<Half>(checkpoint.ReadHalf(L("self_attn.o_proj.bias"))) : null,
                    PostNorm = ctx.Upload<Half>(fold ? Ones(h) : postNorm),
                    GateUp = Linear([L("mlp.gate_proj.weight"), L("mlp.up_proj.weight")], h, format, fold ? postNorm : null, interleaveGateUp: w.FusedLayout),
                    Down = Linear([L("mlp.down_proj.weight")], c.IntermediateSize, format),
                };
                w._owned.Add(layers[i]);
            }
            w.Layers = layers;
            w.FinalNorm = Vector(LlamaTensorNames.FinalNorm);
            progress?.Report("lm_head");
            string head = !c.TieWordEmbeddings && checkpoint.Contains(LlamaTensorNames.LmHead) ? LlamaTensorNames.LmHead : LlamaTensorNames.Embedding;
            w.LmHead = w.Own(Linear([head], h, LinearFormat.Fp16));
            return w;
        }
        catch
        {
            w.Dispose();
            throw;
        }
    }

    private static Half[] Ones(int count)
    {
        var ones = new Half[count];
        Array.Fill(ones, Half.One);
        return ones;
    }

    /// <summary>
    /// Random weights made directly on the GPU (no host arrays): FP16 projections uniform in ±sqrt(3/in) (unit-variance
    /// outputs for unit-variance inputs), INT4 projections with random codes and positive scales of the matching size,
    /// norms near 1 (ones where <see cref="NormsFolded"/>, as if folded into the random projections), embeddings
    /// small. The same seed gives the same model.
    /// </summary>
    public static LlamaWeights Random(MarlinRuntime runtime, LlamaConfig config, ulong seed, LinearFormat format = LinearFormat.Fp16)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ValidateFormat(config, format);
        var w = new LlamaWeights(config, format) { FusedLayout = FusedLayoutPossible(config, format), NormsFolded = NormFoldingPossible(config, format) };
        using var random = new DeviceRandom(runtime);
        using var stream = runtime.CreateStream();
        ulong next = seed;
        ulong Seed() => next = unchecked(next * 6364136223846793005UL + 1442695040888963407UL);
        var ctx = runtime.Context;
        try
        {
            DeviceBuffer<Half> Uniform(long count, float lo, float hi)
            {
                var b = ctx.Allocate<Half>(count);
                random.FillUniform(b, lo, hi, Seed(), stream);
                return b;
            }
            LinearLayer Linear(int inFeatures, int outFeatures, LinearFormat fmt)
            {
                float r = (float)Math.Sqrt(3.0 / inFeatures);
                if (fmt == LinearFormat.Fp16)
                    return new Fp16Linear(CublasLinear.FromDevice(runtime, Uniform((long)inFeatures * outFeatures, -r, r), inFeatures, outFeatures));
                var dw = MarlinDeviceWeights.Allocate(ctx, new MarlinLayout(inFeatures, outFeatures, Int4Linear.GroupSize));
                // Codes uniform in 0..15 give (q - 8) a standard deviation of about 4.6; scale so the weights match the FP16 ones.
                float s = (float)(1.0 / (4.6 * Math.Sqrt(inFeatures)));
                random.FillBits(dw.B, Seed(), stream);
                random.FillUniform(dw.Scales, 0.8f * s, 1.2f * s, Seed(), stream);
                return new Int4Linear(runtime, dw);
            }

            int h = config.HiddenSize, q = config.NumAttentionHeads * config.HeadDim, kv = config.NumKeyValueHeads * config.HeadDim, inter = config.IntermediateSize;
            w.Embedding = w.Own(Uniform((long)config.VocabSize * h, -1f, 1f));
            var layers = new LlamaLayerWeights[config.NumHiddenLayers];
            for (int i = 0; i < layers.Length; i++)
            {
                DeviceBuffer<Half> Norm() => w.NormsFolded ? ctx.Upload<Half>(Ones(h)) : Uniform(h, 0.9f, 1.1f);
                layers[i] = new LlamaLayerWeights
                {
                    InputNorm = Norm(),
                    Qkv = Linear(h, q + 2 * kv, format),
                    QkvBias = config.AttentionBias ? Uniform(q + 2 * kv, -0.1f, 0.1f) : null,
                    O = Linear(q, h, format),
                    PostNorm = Norm(),
                    GateUp = Linear(h, 2 * inter, format),
                    Down = Linear(inter, h, format),
                };
                w._owned.Add(layers[i]);
            }
            w.Layers = layers;
            w.FinalNorm = w.Own(Uniform(h, 0.9f, 1.1f));
            w.LmHead = w.Own(Linear(h, config.VocabSize, LinearFormat.Fp16));
            stream.Synchronize();
            return w;
        }
        catch
        {
            w.Dispose();
            throw;
        }
    }

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    public void Dispose()
    {
        foreach (var o in _owned) o.Dispose();
        _owned.Clear();
    }
}
