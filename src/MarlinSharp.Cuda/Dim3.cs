namespace MarlinSharp.Cuda;

/// <summary>Grid or block dimensions of a kernel launch.</summary>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    /// <summary>X·Y·Z.</summary>
    public ulong Volume => (ulong)X * Y * Z;

    public static implicit operator Dim3(uint x) => new(x);
}
