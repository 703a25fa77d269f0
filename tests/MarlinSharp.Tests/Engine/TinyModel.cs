using System.Globalization;
using MarlinSharp.IO;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

/// <summary>Writes small random Llama-family model folders (config.json + safetensors) for tests.</summary>
internal static class TinyModel
{
    public static string ConfigJson(int hidden = 128, int inter = 256, int layers = 2, int heads = 4, int kvHeads = 2, int vocab = 256,
        bool tie = false, string modelType = "llama", int maxPos = 512, string ropeScaling = "null") =>
        string.Create(CultureInfo.InvariantCulture, $$"""
        {"architectures": ["{{(modelType == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM")}}"], "model_type": "{{modelType}}",
         "hidden_size": {{hidden}}, "intermediate_size": {{inter}}, "num_hidden_layers": {{layers}},
         "num_attention_heads": {{heads}}, "num_key_value_heads": {{kvHeads}}, "vocab_size": {{vocab}},
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": {{maxPos}},
         "tie_word_embeddings": {{(tie ? "true" : "false")}}, "rope_scaling": {{ropeScaling}},
         "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float16"}
        """);

    /// <summary>Random tensors for every name the engine expects (weights ~ U(±sqrt(3/in)), norms near 1).</summary>
    public static List<(string Name, SafeTensorDType DType, long[] Shape, ReadOnlyMemory<byte> Data)> Tensors(LlamaConfig config, int seed,
        SafeTensorDType dtype = SafeTensorDType.F16, Func<string, bool>? include = null)
    {
        var rng = new Random(seed);
        var list = new List<(string, SafeTensorDType, long[], ReadOnlyMemory<byte>)>();
        foreach (var e in LlamaTensorNames.For(config))
        {
            if (e.Optional && !(e.Name == LlamaTensorNames.LmHead && !config.TieWordEmbeddings)) continue;
            if (include is not null && !include(e.Name)) continue;
            long count = e.Shape.Aggregate(1L, (a, b) => a * b);
            double r;
            double center = 0;
            if (e.Shape.Length == 1 && e.Name.EndsWith("norm.weight", StringComparison.Ordinal)) { r = 0.2; center = 1; }
            else if (e.Shape.Length == 1) r = 0.2;
            // A tied embedding is also the LM head: scale it like a linear layer so that logits are of order 1,
            // where the 2e-2 absolute tolerance of the logit comparisons is meaningful for FP16.
            else if (e.Name == LlamaTensorNames.Embedding) r = config.TieWordEmbeddings ? Math.Sqrt(3.0 / e.Shape[1]) : 1;
            else r = Math.Sqrt(3.0 / e.Shape[1]);
            var values = new float[count];
            for (long i = 0; i < count; i++) values[i] = (float)(center + r * (2 * rng.NextDouble() - 1));
            list.Add(dtype switch
            {
                SafeTensorDType.F16 => SafeTensorsWriter.Entry(e.Name, e.Shape, values.Select(v => (Half)v).ToArray()),
                SafeTensorDType.F32 => SafeTensorsWriter.Entry(e.Name, e.Shape, values),
                SafeTensorDType.BF16 => (e.Name, SafeTensorDType.BF16, e.Shape,
                    values.SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))).ToArray()),
                _ => throw new ArgumentException("unsupported dtype"),
            });
        }
        return list;
    }

    /// <summary>Writes config.json and model.safetensors into <paramref name="dir"/>; returns the parsed config.</summary>
    public static LlamaConfig Write(string dir, string configJson, int seed, SafeTensorDType dtype = SafeTensorDType.F16)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), configJson);
        var config = LlamaConfig.Parse(configJson, "config.json");
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), Tensors(config, seed, dtype));
        return config;
    }
}
