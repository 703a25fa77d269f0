namespace MarlinSharp.Kernels;

/// <summary>
/// What <c>marlin_stream.cu</c> does with a row's FP32 sums S = A·dequant(B) (MARLIN_EPILOGUE). The last three fuse the
/// residual add, RMSNorm and SwiGLU of a decoder layer into its GEMMs, so that a decode step needs no kernels for them.
/// </summary>
public enum StreamEpilogue
{
    /// <summary>C = S.</summary>
    Store = 0,

    /// <summary>
    /// C += S in place (C is the residual stream), and for every row r and 16-column block b the sum of the squares of
    /// the new FP16 values of C into rowSquares[r][b] ([rows][n/16] floats): what the next <see cref="Normed"/> GEMM needs.
    /// </summary>
    Residual = 1,

    /// <summary>
    /// C = S / sqrt(mean(A[r]²) + eps), the mean taken from rowSquares [rows][k/16] of the residual GEMM that wrote A.
    /// The RMSNorm weight must be folded into the rows of B (<see cref="Formats.NormFolding"/>).
    /// </summary>
    Normed = 2,

    /// <summary>
    /// As <see cref="Normed"/> on a gate|up projection whose columns are interleaved in blocks of 32
    /// (<see cref="Formats.NormFolding.InterleaveGateUp"/>); C[r][i] = silu(gate) · up, [rows][n/2].
    /// </summary>
    NormedSwiGlu = 3,
}
