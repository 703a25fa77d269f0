using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

/// <summary>Which weights get their RMSNorm weights folded into the projections (no GPU needed).</summary>
public class NormFoldingChoiceTests
{
    private static LlamaConfig Config(int hidden, int inter, bool bias) =>
        new("llama", hidden, inter, 2, hidden / 64, hidden / 64, 64, 256, 1e-5, 10000.0, null, 512, false, bias, [], [], null);

    [Theory]
    [InlineData(4096, 11008, false, LinearFormat.Fp16, true)]    // Llama-2-7B in FP16: the decode step runs without norm kernels
    [InlineData(4096, 11008, true, LinearFormat.Fp16, false)]    // attention biases: the bias comes after the norm's row factor
    [InlineData(4096, 11004, false, LinearFormat.Fp16, false)]   // swiglu_normed takes eight columns per thread
    [InlineData(4096, 11008, false, LinearFormat.Int4, true)]    // INT4: the fused layout
    [InlineData(4096, 11000, false, LinearFormat.Int4, false)]   // not a multiple of the 32-column gate|up block
    public void FoldingFollowsTheShapeAndFormat(int hidden, int inter, bool bias, LinearFormat format, bool folded)
    {
        var config = Config(hidden, inter, bias);
        Assert.Equal(folded, LlamaWeights.NormFoldingPossible(config, format));
        // The fused INT4 layout always folds; FP16 folds without it (its gate|up stays in the plain order).
        if (LlamaWeights.FusedLayoutPossible(config, format)) Assert.True(LlamaWeights.NormFoldingPossible(config, format));
        Assert.False(LlamaWeights.FusedLayoutPossible(config, LinearFormat.Fp16));
    }
}
