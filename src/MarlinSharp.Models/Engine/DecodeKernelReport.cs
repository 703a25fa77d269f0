using MarlinSharp.Kernels;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// What a fused decode step's kernels hold on an SM (for diagnostics: <c>bench e2e --profile</c>): for each GEMM of a
/// decoder layer the streamed configuration, its registers, CTAs per SM and grid, and attention's footprint. Whether the
/// next kernel of the chain can be resident beside the running one decides how much of a kernel boundary programmatic
/// launch can hide.
/// </summary>
internal static class DecodeKernelReport
{
    /// <summary>One line per kernel of a layer of a decode step of <paramref name="rows"/> sequences; empty when steps do not run fused.</summary>
    public static IReadOnlyList<string> Describe(MarlinRuntime runtime, LlamaWeights weights, LlamaKernels kernels, int rows)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(kernels);
        if (weights.Format != LinearFormat.Int4 || rows > MarlinKernelSelector.MaxFusedRows || runtime.Device.ComputeCapabilityMajor < 9) return [];
        var layer = weights.Layers[0];
        var lines = new List<string>();
        void Gemm(string name, LinearLayer linear, StreamEpilogue epilogue)
        {
            int k = linear.InFeatures, n = linear.OutFeatures;
            var config = MarlinKernelSelector.ChooseFused(rows, n, Int4Linear.GroupSize, runtime.Device, epilogue);
            var f = MarlinGemm.DescribeStreamed(runtime, config, rows, n, k);
            lines.Add($"{name,-9} {k}x{n} {config}: {f.RegistersPerThread} regs, {f.SharedBytesPerCta} B smem, {f.CtasPerSm} CTAs/SM, "
                + $"grid {f.Plan.KParts}x{f.Plan.ChunkGroups} = {f.Plan.Ctas} CTAs ({(double)f.Plan.Ctas / runtime.Device.MultiprocessorCount:F2}/SM)");
        }
        Gemm("qkv", layer.Qkv, StreamEpilogue.Normed);
        var c = weights.Config;
        long blocks = (long)rows * c.NumKeyValueHeads;
        var (regs, staticShared, dynamicShared, blocksPerSm) = kernels.DecodeRopeFootprint(blocks);
        lines.Add($"{"attention",-9} attention_decode_rope: {regs} regs, {staticShared + dynamicShared} B smem, {blocksPerSm} blocks/SM, {blocks} blocks (one split)");
        Gemm("o", layer.O, StreamEpilogue.Residual);
        Gemm("gate|up", layer.GateUp, StreamEpilogue.NormedSwiGlu);
        Gemm("down", layer.Down, StreamEpilogue.Residual);
        return lines;
    }
}
