using MarlinSharp.Formats;

namespace MarlinSharp.Quantization;

/// <summary>Natural-order quantized weights: codes [k][n] (0..15, W ≈ (q − 8)·s) and scales [ScaleRows][n].</summary>
public sealed record QuantizedWeights(MarlinLayout Layout, byte[] Codes, Half[] Scales)
{
    /// <summary>Packs these weights into the Marlin format.</summary>
    public MarlinPackedWeights Pack() => MarlinPacker.Pack(Codes, Scales, Layout);

    /// <summary>The fake-quantized fp16 weights fp16((q − 8)·s), [k][n].</summary>
    public Half[] Dequantize() => MarlinReference.Dequantize(Codes, Scales, Layout);
}
