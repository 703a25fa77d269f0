using MarlinSharp.Cuda;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

/// <summary>Every engine kernel compiles with NVRTC for Ampere and Hopper without register spills (no GPU needed).</summary>
public class KernelCompileTests
{
    public static TheoryData<string, string, int, int> Configurations()
    {
        var data = new TheoryData<string, string, int, int>();
        foreach (var arch in new[] { "sm_80", "sm_90" })
        {
            data.Add(ModelKernelSources.Ops, arch, 0, 0);
            foreach (var (d, g) in new[] { (32, 2), (32, 16), (64, 7), (64, 16), (96, 4), (128, 1), (128, 4), (128, 8), (128, 16), (256, 8) })
                data.Add(ModelKernelSources.Attention, arch, d, g);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void CompilesWithoutSpills(string file, string arch, int headDim, int group)
    {
        NvrtcRequirement.Require();
        var options = new List<string>(file == ModelKernelSources.Ops ? LlamaKernels.OpsOptions : LlamaKernels.AttentionOptions(headDim, group))
        {
            "--ptxas-options=-v",
        };
        var output = Nvrtc.Compile(ModelKernelSources.Get(file), file, arch, options);
        Assert.True(CubinImage.IsPlausible(output.Cubin));
        Assert.Contains("Compiling entry function", output.Log);
        if (file == ModelKernelSources.Attention)
            foreach (var entry in new[] { "attention_prefill", "attention_decode", "attention_decode_rope", "attention_combine" })
                Assert.Contains($"Compiling entry function '{entry}'", output.Log);
        if (file == ModelKernelSources.Ops)
            foreach (var entry in new[] { "rmsnorm", "add_rmsnorm", "rope_append", "rope_append_normed", "swiglu", "swiglu_normed", "row_squares", "finish_logits" })
                Assert.Contains($"Compiling entry function '{entry}'", output.Log);
        foreach (var line in output.Log.Split('\n').Where(l => l.Contains("spill", StringComparison.Ordinal)))
            Assert.Contains("0 bytes spill stores, 0 bytes spill loads", line);
    }

    [Fact]
    public void BothSourcesAreEmbedded()
    {
        Assert.Equal([ModelKernelSources.Attention, ModelKernelSources.Ops], ModelKernelSources.Names);
    }

    [Fact]
    public void AttentionRejectsUnsupportedHeadShapes()
    {
        Assert.Throws<NotSupportedException>(() => AttentionPlan.ValidateHeads(8, 8, 80));
        Assert.Throws<NotSupportedException>(() => AttentionPlan.ValidateHeads(32, 1, 128));
        Assert.Throws<NotSupportedException>(() => AttentionPlan.ValidateHeads(17, 1, 32));
        AttentionPlan.ValidateHeads(16, 1, 32);
        AttentionPlan.ValidateHeads(64, 8, 128);
    }

    [Theory]
    [InlineData(1, 32, 128, 128, 132)]
    [InlineData(64, 32, 128, 128, 132)]
    [InlineData(1, 8, 4096, 128, 132)]
    [InlineData(3, 2, 100000, 256, 132)]
    public void DecodeSplitsCoverTheContextWithWholeTiles(int seqs, int kvHeads, int context, int headDim, int sms)
    {
        var (splits, keys) = AttentionPlan.Decode(seqs, kvHeads, context, headDim, sms);
        int tile = AttentionPlan.DecodeTileKeys(headDim);
        Assert.InRange(splits, 1, AttentionPlan.MaxSplits);
        Assert.Equal(0, keys % tile);
        Assert.True((long)splits * keys >= context);
        Assert.True((long)(splits - 1) * keys < context, "no empty split");
    }
}
