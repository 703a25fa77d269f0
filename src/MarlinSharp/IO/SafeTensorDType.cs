namespace MarlinSharp.IO;

/// <summary>Element types of the safetensors format.</summary>
public enum SafeTensorDType
{
    /// <summary>"BOOL", 1 byte.</summary>
    Bool,
    /// <summary>"U8".</summary>
    U8,
    /// <summary>"I8".</summary>
    I8,
    /// <summary>"I16".</summary>
    I16,
    /// <summary>"U16".</summary>
    U16,
    /// <summary>"F16" (IEEE half).</summary>
    F16,
    /// <summary>"BF16" (bfloat16).</summary>
    BF16,
    /// <summary>"I32".</summary>
    I32,
    /// <summary>"U32".</summary>
    U32,
    /// <summary>"F32".</summary>
    F32,
    /// <summary>"F64".</summary>
    F64,
    /// <summary>"I64".</summary>
    I64,
    /// <summary>"U64".</summary>
    U64,
    /// <summary>"F8_E4M3".</summary>
    F8_E4M3,
    /// <summary>"F8_E5M2".</summary>
    F8_E5M2,
}

/// <summary>Sizes and header names of <see cref="SafeTensorDType"/>.</summary>
public static class SafeTensorDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.Bool or SafeTensorDType.U8 or SafeTensorDType.I8 or SafeTensorDType.F8_E4M3 or SafeTensorDType.F8_E5M2 => 1,
        SafeTensorDType.I16 or SafeTensorDType.U16 or SafeTensorDType.F16 or SafeTensorDType.BF16 => 2,
        SafeTensorDType.I32 or SafeTensorDType.U32 or SafeTensorDType.F32 => 4,
        SafeTensorDType.I64 or SafeTensorDType.U64 or SafeTensorDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };

    /// <summary>The name used in the JSON header ("F16", "BOOL", ...).</summary>
    public static string ToHeaderName(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.Bool => "BOOL",
        _ when Enum.IsDefined(dtype) => dtype.ToString(),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };

    /// <summary>Parses a header dtype name (exact, case-sensitive); false for unknown names.</summary>
    public static bool TryParseHeaderName(string? name, out SafeTensorDType dtype)
    {
        switch (name)
        {
            case "BOOL": dtype = SafeTensorDType.Bool; return true;
            case "U8": dtype = SafeTensorDType.U8; return true;
            case "I8": dtype = SafeTensorDType.I8; return true;
            case "I16": dtype = SafeTensorDType.I16; return true;
            case "U16": dtype = SafeTensorDType.U16; return true;
            case "F16": dtype = SafeTensorDType.F16; return true;
            case "BF16": dtype = SafeTensorDType.BF16; return true;
            case "I32": dtype = SafeTensorDType.I32; return true;
            case "U32": dtype = SafeTensorDType.U32; return true;
            case "F32": dtype = SafeTensorDType.F32; return true;
            case "F64": dtype = SafeTensorDType.F64; return true;
            case "I64": dtype = SafeTensorDType.I64; return true;
            case "U64": dtype = SafeTensorDType.U64; return true;
            case "F8_E4M3": dtype = SafeTensorDType.F8_E4M3; return true;
            case "F8_E5M2": dtype = SafeTensorDType.F8_E5M2; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>The dtype that <typeparamref name="T"/> reads natively, or null if none.</summary>
    public static SafeTensorDType? ForElementType<T>()
        where T : unmanaged
    {
        Type t = typeof(T);
        if (t == typeof(Half)) { return SafeTensorDType.F16; }
        if (t == typeof(float)) { return SafeTensorDType.F32; }
        if (t == typeof(double)) { return SafeTensorDType.F64; }
        if (t == typeof(int)) { return SafeTensorDType.I32; }
        if (t == typeof(uint)) { return SafeTensorDType.U32; }
        if (t == typeof(long)) { return SafeTensorDType.I64; }
        if (t == typeof(ulong)) { return SafeTensorDType.U64; }
        if (t == typeof(short)) { return SafeTensorDType.I16; }
        if (t == typeof(ushort)) { return SafeTensorDType.U16; }
        if (t == typeof(byte)) { return SafeTensorDType.U8; }
        if (t == typeof(sbyte)) { return SafeTensorDType.I8; }
        if (t == typeof(bool)) { return SafeTensorDType.Bool; }
        return null;
    }
}
