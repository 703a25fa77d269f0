using System.Text.Json;

namespace MarlinSharp.Models.Tokenization;

/// <summary>Small helpers that read tokenizer.json values and report errors naming the file and field.</summary>
internal readonly struct JsonContext(string source)
{
    public string Source { get; } = source;

    public InvalidDataException Invalid(string field, string problem) =>
        new($"{Source}: field '{field}' {problem}");

    public NotSupportedException Unsupported(string field, string what) =>
        new($"{Source}: field '{field}': {what} is not supported by MarlinSharp's tokenizer");

    public JsonElement Require(JsonElement obj, string name, string path)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw Invalid(path, $"must be an object (found {obj.ValueKind})");
        if (!obj.TryGetProperty(name, out var v))
            throw Invalid(Join(path, name), "is missing");
        return v;
    }

    public static bool TryGet(JsonElement obj, string name, out JsonElement value)
    {
        value = default;
        return obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }

    public string RequireString(JsonElement obj, string name, string path)
    {
        var v = Require(obj, name, path);
        if (v.ValueKind != JsonValueKind.String) throw Invalid(Join(path, name), $"must be a string (found {v.ValueKind})");
        return v.GetString()!;
    }

    public string? OptString(JsonElement obj, string name, string path)
    {
        if (!TryGet(obj, name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.String) throw Invalid(Join(path, name), $"must be a string (found {v.ValueKind})");
        return v.GetString();
    }

    public bool OptBool(JsonElement obj, string name, string path, bool defaultValue)
    {
        if (!TryGet(obj, name, out var v)) return defaultValue;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(Join(path, name), $"must be a boolean (found {v.ValueKind})"),
        };
    }

    public int RequireInt(JsonElement obj, string name, string path)
    {
        var v = Require(obj, name, path);
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
            throw Invalid(Join(path, name), $"must be an integer (found {v.GetRawText()})");
        return i;
    }

    public int OptInt(JsonElement obj, string name, string path, int defaultValue)
    {
        if (!TryGet(obj, name, out var v)) return defaultValue;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
            throw Invalid(Join(path, name), $"must be an integer (found {v.GetRawText()})");
        return i;
    }

    public static string Join(string path, string name) => string.IsNullOrEmpty(path) ? name : path + "." + name;
}
