namespace MarlinSharp.Formats;

/// <summary>
/// Weight rewrites that let a decoder layer's RMSNorm and SwiGLU run inside its GEMMs (see
/// <see cref="Kernels.StreamEpilogue"/>). Both work on Hugging Face [out][in] FP16 weights before quantisation.
/// </summary>
public static class NormFolding
{
    /// <summary>Width of the gate and up column blocks of an interleaved gate|up projection (half a 64-column chunk).</summary>
    public const int GateUpBlock = 32;

    /// <summary>
    /// Multiplies input feature i of every output row by <paramref name="normWeight"/>[i], in place:
    /// RMSNorm(x)·W = (x / rms(x)) · (diag(normWeight)·W), so the norm's weight lives in the projection and the
    /// normalisation is one factor per row. Products are rounded to FP16 once.
    /// </summary>
    /// <param name="weights">[out][in] row-major.</param>
    public static void FoldIntoInputs(Span<Half> weights, int inFeatures, ReadOnlySpan<Half> normWeight)
    {
        if (inFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, "Expected at least one input feature.");
        if (normWeight.Length != inFeatures)
            throw new ArgumentException($"The norm weight has {normWeight.Length} elements; the projection has {inFeatures} input features.", nameof(normWeight));
        if (weights.Length == 0 || weights.Length % inFeatures != 0)
            throw new ArgumentException($"{weights.Length} weights are not whole rows of {inFeatures} input features.", nameof(weights));
        Span<float> gamma = inFeatures <= 16384 ? stackalloc float[inFeatures] : new float[inFeatures];
        for (int i = 0; i < inFeatures; i++) gamma[i] = (float)normWeight[i];
        for (int row = 0; row < weights.Length; row += inFeatures)
        {
            var r = weights.Slice(row, inFeatures);
            for (int i = 0; i < r.Length; i++) r[i] = (Half)((float)r[i] * gamma[i]);
        }
    }

    /// <summary>
    /// Reorders the output rows of a fused [gate; up] projection ([2·inter][in], gate rows first) so that each 64-row
    /// chunk c holds gate rows 32c..32c+31 and then up rows 32c..32c+31: the layout of
    /// <see cref="Kernels.StreamEpilogue.NormedSwiGlu"/> and of the engine's swiglu kernel with block 32.
    /// </summary>
    public static Half[] InterleaveGateUp(ReadOnlySpan<Half> gateUp, int inFeatures)
    {
        if (inFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), inFeatures, "Expected at least one input feature.");
        if (gateUp.Length == 0 || gateUp.Length % (2L * inFeatures) != 0)
            throw new ArgumentException($"{gateUp.Length} weights are not a [2·inter][{inFeatures}] gate|up projection.", nameof(gateUp));
        int inter = gateUp.Length / (2 * inFeatures);
        if (inter % GateUpBlock != 0)
            throw new ArgumentException($"The intermediate size {inter} is not a multiple of {GateUpBlock}.", nameof(gateUp));
        var result = new Half[gateUp.Length];
        for (int dst = 0; dst < 2 * inter; dst++)
        {
            int src = InterleavedSource(dst, inter);
            gateUp.Slice(src * inFeatures, inFeatures).CopyTo(result.AsSpan(dst * inFeatures, inFeatures));
        }
        return result;
    }

    /// <summary>The row of the [gate; up] projection that interleaved row <paramref name="row"/> comes from.</summary>
    public static int InterleavedSource(int row, int inter)
    {
        int chunk = row / (2 * GateUpBlock), within = row % (2 * GateUpBlock);
        return within < GateUpBlock ? chunk * GateUpBlock + within : inter + chunk * GateUpBlock + within - GateUpBlock;
    }
}
