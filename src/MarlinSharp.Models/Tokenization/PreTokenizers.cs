using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MarlinSharp.Models.Tokenization;

/// <summary>A piece of text flowing through pre-tokenization. <c>AtStart</c>: begins at offset 0 of the original input.</summary>
internal readonly record struct Piece(string Text, bool AtStart);

internal enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

internal abstract class PreTokenizer
{
    /// <summary>Splits every piece of <paramref name="input"/>; empty pieces are dropped.</summary>
    public abstract List<Piece> Apply(List<Piece> input);

    public static PreTokenizer? Parse(JsonElement e, string path, JsonContext ctx)
    {
        if (e.ValueKind == JsonValueKind.Null || e.ValueKind == JsonValueKind.Undefined) return null;
        string type = ctx.RequireString(e, "type", path);
        switch (type)
        {
            case "Sequence":
            {
                var arr = ctx.Require(e, "pretokenizers", path);
                if (arr.ValueKind != JsonValueKind.Array) throw ctx.Invalid(path + ".pretokenizers", "must be an array");
                var list = new List<PreTokenizer>();
                int i = 0;
                foreach (var item in arr.EnumerateArray())
                {
                    var p = Parse(item, $"{path}.pretokenizers[{i++}]", ctx);
                    if (p != null) list.Add(p);
                }
                return new SequencePreTokenizer(list);
            }
            case "ByteLevel":
                return new ByteLevelPreTokenizer(ctx.OptBool(e, "add_prefix_space", path, true), ctx.OptBool(e, "use_regex", path, true));
            case "Split":
            {
                var (literal, regex) = PatternSpec.Parse(ctx.Require(e, "pattern", path), path + ".pattern", ctx);
                regex ??= new Regex(Regex.Escape(literal!), RegexOptions.CultureInvariant);
                var behavior = ParseBehavior(ctx.RequireString(e, "behavior", path), path + ".behavior", ctx);
                return new RegexSplitPreTokenizer(regex, behavior, ctx.OptBool(e, "invert", path, false));
            }
            case "Metaspace":
            {
                string replacement = ctx.OptString(e, "replacement", path) ?? "\u2581";
                if (replacement.Length != 1) throw ctx.Unsupported(path + ".replacement", $"a replacement of {replacement.Length} UTF-16 units");
                string scheme = ctx.OptString(e, "prepend_scheme", path)
                                ?? (ctx.OptBool(e, "add_prefix_space", path, true) ? "always" : "never");
                return new MetaspacePreTokenizer(replacement[0], ParseScheme(scheme, path + ".prepend_scheme", ctx), ctx.OptBool(e, "split", path, true));
            }
            case "Whitespace":
                return new RegexSplitPreTokenizer(new Regex(@"\w+|[^\w\s]+", RegexOptions.CultureInvariant), SplitBehavior.Removed, invert: true);
            case "WhitespaceSplit":
                return new RegexSplitPreTokenizer(new Regex(@"\s+", RegexOptions.CultureInvariant), SplitBehavior.Removed, invert: false);
            case "Digits":
                return new RegexSplitPreTokenizer(new Regex(ctx.OptBool(e, "individual_digits", path, false) ? @"\p{Nd}" : @"\p{Nd}+", RegexOptions.CultureInvariant),
                    SplitBehavior.Isolated, invert: false);
            case "Punctuation":
                return new RegexSplitPreTokenizer(new Regex(@"[\p{P}!-/:-@\[-`{-~]", RegexOptions.CultureInvariant),
                    ParseBehavior(ctx.OptString(e, "behavior", path) ?? "Isolated", path + ".behavior", ctx), invert: false);
            default:
                throw ctx.Unsupported(path + ".type", $"pre-tokenizer type \"{type}\"");
        }
    }

    internal static PrependScheme ParseScheme(string s, string path, JsonContext ctx) => s.ToLowerInvariant() switch
    {
        "first" => PrependScheme.First,
        "always" => PrependScheme.Always,
        "never" => PrependScheme.Never,
        _ => throw ctx.Unsupported(path, $"prepend_scheme \"{s}\""),
    };

    private static SplitBehavior ParseBehavior(string s, string path, JsonContext ctx) => s.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant() switch
    {
        "removed" => SplitBehavior.Removed,
        "isolated" => SplitBehavior.Isolated,
        "mergedwithprevious" => SplitBehavior.MergedWithPrevious,
        "mergedwithnext" => SplitBehavior.MergedWithNext,
        "contiguous" => SplitBehavior.Contiguous,
        _ => throw ctx.Unsupported(path, $"split behavior \"{s}\""),
    };

    /// <summary>
    /// Splits <paramref name="piece"/> at the given matches (sorted, non-overlapping), following the
    /// Hugging Face SplitDelimiterBehavior rules, and appends the non-empty parts to <paramref name="output"/>.
    /// </summary>
    internal static void SplitByMatches(Piece piece, List<(int Start, int End)> matches, SplitBehavior behavior, bool invert, List<Piece> output)
    {
        string text = piece.Text;
        if (text.Length == 0) return;
        // Full covering list of (start, end, isMatch)
        var parts = new List<(int S, int E, bool M)>(matches.Count * 2 + 1);
        int prev = 0;
        foreach (var (s, e) in matches)
        {
            if (prev != s) parts.Add((prev, s, invert));
            parts.Add((s, e, !invert));
            prev = e;
        }
        if (prev != text.Length) parts.Add((prev, text.Length, invert));

        var spans = new List<(int S, int E, bool Remove)>(parts.Count);
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var p in parts) spans.Add((p.S, p.E, false));
                break;
            case SplitBehavior.Removed:
                foreach (var p in parts) spans.Add((p.S, p.E, p.M));
                break;
            case SplitBehavior.Contiguous:
            {
                bool prevMatch = false;
                foreach (var p in parts)
                {
                    if (p.M == prevMatch && spans.Count > 0) spans[^1] = (spans[^1].S, p.E, false);
                    else spans.Add((p.S, p.E, false));
                    prevMatch = p.M;
                }
                break;
            }
            case SplitBehavior.MergedWithPrevious:
            {
                bool prevMatch = false;
                foreach (var p in parts)
                {
                    if (p.M && !prevMatch && spans.Count > 0) spans[^1] = (spans[^1].S, p.E, false);
                    else spans.Add((p.S, p.E, false));
                    prevMatch = p.M;
                }
                break;
            }
            case SplitBehavior.MergedWithNext:
            {
                bool prevMatch = false;
                for (int k = parts.Count - 1; k >= 0; k--)
                {
                    var p = parts[k];
                    if (p.M && !prevMatch && spans.Count > 0) spans[^1] = (p.S, spans[^1].E, false);
                    else spans.Add((p.S, p.E, false));
                    prevMatch = p.M;
                }
                spans.Reverse();
                break;
            }
        }
        bool first = true;
        foreach (var (s, e, remove) in spans)
        {
            if (!remove && e > s) output.Add(new Piece(text[s..e], piece.AtStart && first && s == 0));
            first = false;
        }
    }
}

internal enum PrependScheme { First, Always, Never }

internal sealed class SequencePreTokenizer(List<PreTokenizer> items) : PreTokenizer
{
    public override List<Piece> Apply(List<Piece> input)
    {
        foreach (var p in items) input = p.Apply(input);
        return input;
    }
}

internal sealed class RegexSplitPreTokenizer(Regex regex, SplitBehavior behavior, bool invert) : PreTokenizer
{
    public override List<Piece> Apply(List<Piece> input)
    {
        var output = new List<Piece>(input.Count * 4);
        foreach (var piece in input)
            SplitByMatches(piece, CodePointMatcher.Matches(regex, piece.Text), behavior, invert, output);
        return output;
    }
}

internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private static readonly Regex Gpt2Regex = OnigurumaRegex.Compile(Gpt2Pattern, "ByteLevel pre-tokenizer");

    public override List<Piece> Apply(List<Piece> input)
    {
        var split = new List<Piece>(input.Count * 4);
        foreach (var piece in input)
        {
            var p = piece;
            if (addPrefixSpace && !p.Text.StartsWith(' ')) p = p with { Text = " " + p.Text };
            if (useRegex) SplitByMatches(p, CodePointMatcher.Matches(Gpt2Regex, p.Text), SplitBehavior.Isolated, false, split);
            else if (p.Text.Length > 0) split.Add(p);
        }
        for (int i = 0; i < split.Count; i++) split[i] = split[i] with { Text = ByteLevelAlphabet.Encode(split[i].Text) };
        return split;
    }
}

internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme scheme, bool split) : PreTokenizer
{
    public override List<Piece> Apply(List<Piece> input)
    {
        var output = new List<Piece>(input.Count * 4);
        foreach (var piece in input)
        {
            string t = piece.Text.Replace(' ', replacement);
            bool prepend = scheme switch
            {
                PrependScheme.Always => !t.StartsWith(replacement),
                PrependScheme.First => !t.StartsWith(replacement) && piece.AtStart,
                _ => false,
            };
            if (prepend) t = replacement + t;
            var p = new Piece(t, piece.AtStart);
            if (!split)
            {
                if (t.Length > 0) output.Add(p);
                continue;
            }
            var matches = new List<(int, int)>();
            for (int i = 0; i < t.Length; i++) if (t[i] == replacement) matches.Add((i, i + 1));
            SplitByMatches(p, matches, SplitBehavior.MergedWithNext, false, output);
        }
        return output;
    }
}
