using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MarlinSharp.Models.Tokenization;

internal abstract class TextNormalizer
{
    public abstract string Normalize(string text);

    public static TextNormalizer? Parse(JsonElement e, string path, JsonContext ctx)
    {
        if (e.ValueKind == JsonValueKind.Null || e.ValueKind == JsonValueKind.Undefined) return null;
        string type = ctx.RequireString(e, "type", path);
        return type switch
        {
            "Sequence" => new SequenceNormalizer(ParseList(ctx.Require(e, "normalizers", path), path + ".normalizers", ctx)),
            "NFC" => new UnicodeFormNormalizer(NormalizationForm.FormC),
            "NFD" => new UnicodeFormNormalizer(NormalizationForm.FormD),
            "NFKC" => new UnicodeFormNormalizer(NormalizationForm.FormKC),
            "NFKD" => new UnicodeFormNormalizer(NormalizationForm.FormKD),
            "Lowercase" => new LowercaseNormalizer(),
            "Prepend" => new PrependNormalizer(ctx.RequireString(e, "prepend", path)),
            "Replace" => ReplaceNormalizer.FromJson(e, path, ctx),
            "Strip" => new StripNormalizer(ctx.OptBool(e, "strip_left", path, true), ctx.OptBool(e, "strip_right", path, true)),
            "StripAccents" => new StripAccentsNormalizer(),
            "ByteLevel" => new ByteLevelNormalizer(),
            _ => throw ctx.Unsupported(path + ".type", $"normalizer type \"{type}\""),
        };
    }

    private static List<TextNormalizer> ParseList(JsonElement arr, string path, JsonContext ctx)
    {
        if (arr.ValueKind != JsonValueKind.Array) throw ctx.Invalid(path, "must be an array");
        var list = new List<TextNormalizer>();
        int i = 0;
        foreach (var item in arr.EnumerateArray())
        {
            var n = Parse(item, $"{path}[{i++}]", ctx);
            if (n != null) list.Add(n);
        }
        return list;
    }
}

internal sealed class SequenceNormalizer(List<TextNormalizer> items) : TextNormalizer
{
    public override string Normalize(string text)
    {
        foreach (var n in items) text = n.Normalize(text);
        return text;
    }
}

internal sealed class UnicodeFormNormalizer(NormalizationForm form) : TextNormalizer
{
    public override string Normalize(string text) => UnicodeNormalization.Normalize(text, form);
}

internal sealed class LowercaseNormalizer : TextNormalizer
{
    public override string Normalize(string text) => text.ToLowerInvariant();
}

internal sealed class PrependNormalizer(string prefix) : TextNormalizer
{
    public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
}

internal sealed class ReplaceNormalizer(string? literal, Regex? regex, string content) : TextNormalizer
{
    public static ReplaceNormalizer FromJson(JsonElement e, string path, JsonContext ctx)
    {
        string content = ctx.RequireString(e, "content", path);
        var (literal, regex) = PatternSpec.Parse(ctx.Require(e, "pattern", path), path + ".pattern", ctx);
        return new ReplaceNormalizer(literal, regex, content);
    }

    public override string Normalize(string text)
    {
        if (literal != null) return literal.Length == 0 ? text : text.Replace(literal, content, StringComparison.Ordinal);
        var matches = CodePointMatcher.Matches(regex!, text);
        if (matches.Count == 0) return text;
        var sb = new StringBuilder(text.Length);
        int prev = 0;
        foreach (var (s, end) in matches)
        {
            sb.Append(text, prev, s - prev).Append(content);
            prev = end;
        }
        sb.Append(text, prev, text.Length - prev);
        return sb.ToString();
    }
}

internal sealed class StripNormalizer(bool left, bool right) : TextNormalizer
{
    public override string Normalize(string text) => (left, right) switch
    {
        (true, true) => text.Trim(),
        (true, false) => text.TrimStart(),
        (false, true) => text.TrimEnd(),
        _ => text,
    };
}

internal sealed class StripAccentsNormalizer : TextNormalizer
{
    public override string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var r in text.EnumerateRunes())
            if (Rune.GetUnicodeCategory(r) != UnicodeCategory.NonSpacingMark) sb.Append(r.ToString());
        return sb.ToString();
    }
}

internal sealed class ByteLevelNormalizer : TextNormalizer
{
    public override string Normalize(string text) => ByteLevelAlphabet.Encode(text);
}

/// <summary>A tokenizer.json pattern: {"String": "..."} or {"Regex": "..."}.</summary>
internal static class PatternSpec
{
    public static (string? Literal, Regex? Regex) Parse(JsonElement e, string path, JsonContext ctx)
    {
        if (e.ValueKind == JsonValueKind.String) return (e.GetString(), null);
        if (JsonContext.TryGet(e, "String", out var s))
        {
            if (s.ValueKind != JsonValueKind.String) throw ctx.Invalid(path + ".String", "must be a string");
            return (s.GetString()!, null);
        }
        if (JsonContext.TryGet(e, "Regex", out var r))
        {
            if (r.ValueKind != JsonValueKind.String) throw ctx.Invalid(path + ".Regex", "must be a string");
            return (null, OnigurumaRegex.Compile(r.GetString()!, $"{ctx.Source}: field '{path}.Regex'"));
        }
        throw ctx.Invalid(path, "must be an object with a \"String\" or \"Regex\" member");
    }
}
