using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MarlinSharp.Models.Tokenization;

/// <summary>A decoder step: transforms the list of token strings (Hugging Face "decode_chain").</summary>
internal abstract class TokenDecoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    public static TokenDecoder? Parse(JsonElement e, string path, JsonContext ctx)
    {
        if (e.ValueKind == JsonValueKind.Null || e.ValueKind == JsonValueKind.Undefined) return null;
        string type = ctx.RequireString(e, "type", path);
        switch (type)
        {
            case "Sequence":
            {
                var arr = ctx.Require(e, "decoders", path);
                if (arr.ValueKind != JsonValueKind.Array) throw ctx.Invalid(path + ".decoders", "must be an array");
                var list = new List<TokenDecoder>();
                int i = 0;
                foreach (var item in arr.EnumerateArray())
                {
                    var d = Parse(item, $"{path}.decoders[{i++}]", ctx);
                    if (d != null) list.Add(d);
                }
                return new SequenceDecoder(list);
            }
            case "ByteLevel": return new ByteLevelDecoder();
            case "ByteFallback": return new ByteFallbackDecoder();
            case "Fuse": return new FuseDecoder();
            case "Strip":
            {
                string content = ctx.RequireString(e, "content", path);
                if (content.Length != 1) throw ctx.Unsupported(path + ".content", $"a strip content of {content.Length} UTF-16 units");
                return new StripDecoder(content[0], ctx.OptInt(e, "start", path, 0), ctx.OptInt(e, "stop", path, 0));
            }
            case "Replace":
            {
                string content = ctx.RequireString(e, "content", path);
                var (literal, regex) = PatternSpec.Parse(ctx.Require(e, "pattern", path), path + ".pattern", ctx);
                var normalizer = new ReplaceNormalizer(literal, regex, content);
                return new ReplaceDecoder(normalizer);
            }
            case "Metaspace":
            {
                string replacement = ctx.OptString(e, "replacement", path) ?? "\u2581";
                if (replacement.Length != 1) throw ctx.Unsupported(path + ".replacement", $"a replacement of {replacement.Length} UTF-16 units");
                string scheme = ctx.OptString(e, "prepend_scheme", path)
                                ?? (ctx.OptBool(e, "add_prefix_space", path, true) ? "always" : "never");
                return new MetaspaceDecoder(replacement[0], PreTokenizer.ParseScheme(scheme, path + ".prepend_scheme", ctx));
            }
            case "BPEDecoder": return new BpeSuffixDecoder(ctx.OptString(e, "suffix", path) ?? "</w>");
            default: throw ctx.Unsupported(path + ".type", $"decoder type \"{type}\"");
        }
    }
}

internal sealed class SequenceDecoder(List<TokenDecoder> items) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (var d in items) tokens = d.DecodeChain(tokens);
        return tokens;
    }
}

internal sealed class ByteLevelDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var t in tokens)
        {
            int mark = bytes.Count;
            bool ok = true;
            foreach (char c in t)
            {
                if (ByteLevelAlphabet.CharToByte.TryGetValue(c, out byte b)) bytes.Add(b);
                else { ok = false; break; }
            }
            if (!ok)
            {
                bytes.RemoveRange(mark, bytes.Count - mark);
                bytes.AddRange(Encoding.UTF8.GetBytes(t));
            }
        }
        return [Encoding.UTF8.GetString(bytes.ToArray())];
    }
}

internal sealed class ByteFallbackDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        var pending = new List<byte>();
        foreach (var t in tokens)
        {
            if (t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>' &&
                byte.TryParse(t.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
            {
                pending.Add(b);
                continue;
            }
            Flush(pending, output);
            output.Add(t);
        }
        Flush(pending, output);
        return output;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    private static void Flush(List<byte> pending, List<string> output)
    {
        if (pending.Count == 0) return;
        try { output.Add(StrictUtf8.GetString(pending.ToArray())); }
        catch (DecoderFallbackException)
        {
            for (int i = 0; i < pending.Count; i++) output.Add("\uFFFD");
        }
        pending.Clear();
    }
}

internal sealed class FuseDecoder : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

internal sealed class StripDecoder(char content, int start, int stop) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        foreach (var t in tokens)
        {
            // Operates on code points like the reference implementation; `content` is a single BMP character.
            var runes = t.EnumerateRunes().ToArray();
            int s = 0;
            for (int i = 0; i < start && i < runes.Length; i++)
            {
                if (runes[i].Value == content) s = i + 1; else break;
            }
            int e = runes.Length;
            for (int i = 0; i < stop; i++)
            {
                int idx = runes.Length - i - 1;
                if (idx < 0) break;
                if (runes[idx].Value == content) e = idx; else break;
            }
            var sb = new StringBuilder();
            for (int i = s; i < e; i++) sb.Append(runes[i].ToString());
            output.Add(sb.ToString());
        }
        return output;
    }
}

internal sealed class ReplaceDecoder(ReplaceNormalizer replace) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens) => tokens.Select(replace.Normalize).ToList();
}

internal sealed class MetaspaceDecoder(char replacement, PrependScheme scheme) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            var sb = new StringBuilder(tokens[i].Length);
            foreach (char c in tokens[i])
            {
                if (c == replacement)
                {
                    if (i == 0 && scheme != PrependScheme.Never) continue;
                    sb.Append(' ');
                }
                else sb.Append(c);
            }
            output.Add(sb.ToString());
        }
        return output;
    }
}

internal sealed class BpeSuffixDecoder(string suffix) : TokenDecoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
            output.Add(tokens[i].Replace(suffix, i == tokens.Count - 1 ? "" : " ", StringComparison.Ordinal));
        return output;
    }
}
