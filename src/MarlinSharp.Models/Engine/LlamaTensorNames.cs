using MarlinSharp.Models.Configuration;

namespace MarlinSharp.Models.Engine;

/// <summary>The Hugging Face tensor names of a Llama-family checkpoint and the shapes config.json implies for them.</summary>
public static class LlamaTensorNames
{
    public const string Embedding = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string LmHead = "lm_head.weight";

    public static string Layer(int layer, string suffix) => $"model.layers.{layer}.{suffix}";

    /// <summary>One expected tensor: its name, shape, and whether it may be absent.</summary>
    public sealed record Expected(string Name, long[] Shape, bool Optional = false);

    /// <summary>Every tensor the engine reads, in load order. The LM head is optional when embeddings are tied.</summary>
    public static IReadOnlyList<Expected> For(LlamaConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        long h = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim, inter = c.IntermediateSize;
        var list = new List<Expected> { new(Embedding, [c.VocabSize, h]) };
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            list.Add(new(Layer(i, "input_layernorm.weight"), [h]));
            list.Add(new(Layer(i, "self_attn.q_proj.weight"), [q, h]));
            list.Add(new(Layer(i, "self_attn.k_proj.weight"), [kv, h]));
            list.Add(new(Layer(i, "self_attn.v_proj.weight"), [kv, h]));
            if (c.AttentionBias)
            {
                list.Add(new(Layer(i, "self_attn.q_proj.bias"), [q]));
                list.Add(new(Layer(i, "self_attn.k_proj.bias"), [kv]));
                list.Add(new(Layer(i, "self_attn.v_proj.bias"), [kv]));
            }
            list.Add(new(Layer(i, "self_attn.o_proj.weight"), [h, q]));
            list.Add(new(Layer(i, "self_attn.o_proj.bias"), [h], Optional: true));
            list.Add(new(Layer(i, "post_attention_layernorm.weight"), [h]));
            list.Add(new(Layer(i, "mlp.gate_proj.weight"), [inter, h]));
            list.Add(new(Layer(i, "mlp.up_proj.weight"), [inter, h]));
            list.Add(new(Layer(i, "mlp.down_proj.weight"), [h, inter]));
        }
        list.Add(new(FinalNorm, [h]));
        list.Add(new(LmHead, [c.VocabSize, h], Optional: c.TieWordEmbeddings));
        return list;
    }
}
