using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MarlinSharp.Models.Tokenization;

/// <summary>
/// Translates the Oniguruma-flavoured regular expressions found in tokenizer.json files into .NET syntax:
/// possessive quantifiers (<c>x?+</c>, <c>x++</c>, <c>x*+</c>) become atomic groups <c>(?&gt;x?)</c>,
/// <c>\x{HHHH}</c> becomes a .NET escape, <c>{,n}</c> becomes <c>{0,n}</c>, and an interval followed by
/// <c>+</c> (which Oniguruma reads as a repeat of the interval) is wrapped in a group.
/// </summary>
internal static class OnigurumaRegex
{
    public static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        var groupStarts = new Stack<int>();
        int lastAtom = -1; // start of the last complete atom in sb, or -1 if none can be quantified
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            switch (c)
            {
                case '\\':
                {
                    lastAtom = sb.Length;
                    i = CopyEscape(pattern, i, sb, inClass: false);
                    break;
                }
                case '[':
                {
                    lastAtom = sb.Length;
                    i = CopyClass(pattern, i, sb);
                    break;
                }
                case '(':
                {
                    groupStarts.Push(sb.Length);
                    sb.Append('(');
                    i++;
                    // Group prefixes such as (?: (?i: (?= (?<name> are copied as they are.
                    lastAtom = -1;
                    break;
                }
                case ')':
                {
                    if (groupStarts.Count == 0) throw new ArgumentException($"Unbalanced ')' at position {i} in pattern {pattern}");
                    sb.Append(')');
                    lastAtom = groupStarts.Pop();
                    i++;
                    break;
                }
                case '*':
                case '+':
                case '?':
                case '{':
                {
                    int qEnd = c == '{' ? IntervalEnd(pattern, i) : i + 1;
                    if (qEnd < 0)
                    {
                        // Not a valid interval: a literal brace.
                        lastAtom = sb.Length;
                        sb.Append("\\{");
                        i++;
                        break;
                    }
                    if (lastAtom < 0)
                    {
                        if (c == '?' && sb.Length > 0 && sb[^1] == '(') { sb.Append('?'); i++; break; } // "(?" group syntax
                        throw new ArgumentException($"Quantifier '{c}' at position {i} has nothing to repeat in pattern {pattern}");
                    }
                    string quant = c == '{' ? NormalizeInterval(pattern[i..qEnd]) : c.ToString();
                    i = qEnd;
                    char next = i < pattern.Length ? pattern[i] : '\0';
                    if (c != '{' && next == '+')
                    {
                        // Possessive quantifier -> atomic group.
                        sb.Insert(lastAtom, "(?>");
                        sb.Append(quant).Append(')');
                        i++;
                        lastAtom = -1;
                    }
                    else if (c == '{' && next == '+')
                    {
                        // Oniguruma (Ruby syntax): "a{1,3}+" repeats the interval; .NET would call it a nested quantifier.
                        sb.Insert(lastAtom, "(?:");
                        sb.Append(quant).Append(')');
                        // keep lastAtom: the '+' that follows quantifies the new group
                    }
                    else
                    {
                        sb.Append(quant);
                        if (next == '?') { sb.Append('?'); i++; }
                        lastAtom = -1;
                    }
                    break;
                }
                default:
                {
                    lastAtom = sb.Length;
                    if (c == '|' || c == '^' || c == '$') lastAtom = -1;
                    if (char.IsHighSurrogate(c) && i + 1 < pattern.Length && char.IsLowSurrogate(pattern[i + 1]))
                    {
                        sb.Append("(?:").Append(c).Append(pattern[i + 1]).Append(')');
                        i += 2;
                        break;
                    }
                    if (c == '#' || c == ' ') { sb.Append('\\').Append(c); i++; break; } // keep literal under any option
                    sb.Append(c);
                    i++;
                    break;
                }
            }
        }
        if (groupStarts.Count != 0) throw new ArgumentException($"Unbalanced '(' in pattern {pattern}");
        return sb.ToString();
    }

    /// <summary>Compiles a tokenizer.json regex, naming the source field if .NET rejects it.</summary>
    public static Regex Compile(string pattern, string where)
    {
        string translated;
        try { translated = Translate(pattern); }
        catch (ArgumentException e) { throw new NotSupportedException($"{where}: regex '{pattern}' cannot be translated: {e.Message}", e); }
        try { return new Regex(translated, RegexOptions.CultureInvariant | RegexOptions.Compiled); }
        catch (ArgumentException e) { throw new NotSupportedException($"{where}: regex '{pattern}' (translated to '{translated}') is not supported by .NET: {e.Message}", e); }
    }

    private static int IntervalEnd(string p, int i)
    {
        // {n} {n,} {n,m} {,m}
        int j = i + 1;
        int digits1 = 0, digits2 = 0;
        while (j < p.Length && char.IsAsciiDigit(p[j])) { j++; digits1++; }
        bool comma = j < p.Length && p[j] == ',';
        if (comma) { j++; while (j < p.Length && char.IsAsciiDigit(p[j])) { j++; digits2++; } }
        if (j >= p.Length || p[j] != '}') return -1;
        if (digits1 == 0 && digits2 == 0) return -1;
        return j + 1;
    }

    private static string NormalizeInterval(string q) => q.StartsWith("{,", StringComparison.Ordinal) ? "{0" + q[1..] : q;

    private static int CopyEscape(string p, int i, StringBuilder sb, bool inClass)
    {
        if (i + 1 >= p.Length) throw new ArgumentException($"Trailing backslash in pattern {p}");
        char e = p[i + 1];
        switch (e)
        {
            case 'x' when i + 2 < p.Length && p[i + 2] == '{':
            {
                int close = p.IndexOf('}', i + 3);
                if (close < 0) throw new ArgumentException($"Unterminated \\x{{ in pattern {p}");
                int cp = int.Parse(p.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                AppendCodePoint(sb, cp, inClass);
                return close + 1;
            }
            case 'h':
                sb.Append(inClass ? "0-9a-fA-F" : "[0-9a-fA-F]");
                return i + 2;
            case 'H':
                if (inClass) throw new ArgumentException($"\\H inside a character class is not supported: {p}");
                sb.Append("[^0-9a-fA-F]");
                return i + 2;
            case 'p':
            case 'P':
            {
                if (i + 2 < p.Length && p[i + 2] == '{')
                {
                    int close = p.IndexOf('}', i + 3);
                    if (close < 0) throw new ArgumentException($"Unterminated \\p{{ in pattern {p}");
                    string name = p[(i + 3)..close];
                    bool negate = name.StartsWith('^');
                    if (negate) name = name[1..];
                    char kind = (e == 'P') ^ negate ? 'P' : 'p';
                    sb.Append('\\').Append(kind).Append('{').Append(MapPropertyName(name)).Append('}');
                    return close + 1;
                }
                // \pL short form
                if (i + 2 < p.Length) { sb.Append('\\').Append(e).Append('{').Append(p[i + 2]).Append('}'); return i + 3; }
                throw new ArgumentException($"Bad \\p in pattern {p}");
            }
            default:
                sb.Append('\\').Append(e);
                return i + 2;
        }
    }

    private static string MapPropertyName(string name) => name switch
    {
        "Letter" => "L", "Number" => "N", "Punctuation" => "P", "Symbol" => "S", "Mark" => "M",
        "Separator" => "Z", "Other" => "C", "Lowercase_Letter" => "Ll", "Uppercase_Letter" => "Lu",
        "Decimal_Number" => "Nd",
        _ => name,
    };

    private static void AppendCodePoint(StringBuilder sb, int cp, bool inClass)
    {
        if (cp < 0x10000) { sb.Append("\\u").Append(cp.ToString("X4", CultureInfo.InvariantCulture)); return; }
        if (inClass) throw new ArgumentException($"Code point U+{cp:X} above the BMP inside a character class is not supported");
        string s = char.ConvertFromUtf32(cp);
        sb.Append("(?:\\u").Append(((int)s[0]).ToString("X4", CultureInfo.InvariantCulture))
          .Append("\\u").Append(((int)s[1]).ToString("X4", CultureInfo.InvariantCulture)).Append(')');
    }

    private static int CopyClass(string p, int i, StringBuilder sb)
    {
        sb.Append('[');
        int j = i + 1;
        if (j < p.Length && p[j] == '^') { sb.Append('^'); j++; }
        if (j < p.Length && p[j] == ']') { sb.Append("\\]"); j++; }
        while (j < p.Length)
        {
            char c = p[j];
            if (c == ']') { sb.Append(']'); return j + 1; }
            if (c == '\\') { j = CopyEscape(p, j, sb, inClass: true); continue; }
            if (c == '[') throw new ArgumentException($"Nested character classes / POSIX brackets are not supported (position {j}) in pattern {p}");
            if (c == '&' && j + 1 < p.Length && p[j + 1] == '&') throw new ArgumentException($"Character class intersection '&&' is not supported in pattern {p}");
            if (char.IsSurrogate(c)) throw new ArgumentException($"Characters above the BMP inside a character class are not supported in pattern {p}");
            sb.Append(c);
            j++;
        }
        throw new ArgumentException($"Unterminated character class in pattern {p}");
    }
}

/// <summary>
/// Finds regex matches with code-point semantics: .NET regexes see UTF-16 code units, so a letter above the BMP
/// (e.g. U+20000, a CJK ideograph) would not match <c>\p{L}</c>. Such pairs are replaced by a BMP stand-in
/// of the same general category before matching, and match boundaries are mapped back.
/// </summary>
internal static class CodePointMatcher
{
    private static readonly char[] StandIns = BuildStandIns();

    private static char[] BuildStandIns()
    {
        var table = new char[32];
        for (int c = 0x0100; c < 0xFFFF; c++)
        {
            if (char.IsSurrogate((char)c)) continue;
            int cat = (int)char.GetUnicodeCategory((char)c);
            if (table[cat] == '\0') table[cat] = (char)c;
        }
        return table;
    }

    /// <summary>Returns (start, end) offsets into <paramref name="text"/> of each match, in order.</summary>
    public static List<(int Start, int End)> Matches(Regex regex, string text)
    {
        var result = new List<(int, int)>();
        int[]? map = null;
        string subject = text;
        for (int k = 0; k < text.Length; k++)
        {
            if (char.IsHighSurrogate(text[k]) && k + 1 < text.Length && char.IsLowSurrogate(text[k + 1]))
            {
                (subject, map) = Substitute(text);
                break;
            }
        }
        for (var m = regex.Match(subject); m.Success; m = m.NextMatch())
        {
            int s = m.Index, e = m.Index + m.Length;
            if (map != null) { s = map[s]; e = map[e]; }
            result.Add((s, e));
        }
        return result;
    }

    private static (string, int[]) Substitute(string text)
    {
        var sb = new StringBuilder(text.Length);
        var map = new List<int>(text.Length + 1);
        for (int k = 0; k < text.Length; k++)
        {
            char c = text[k];
            if (char.IsHighSurrogate(c) && k + 1 < text.Length && char.IsLowSurrogate(text[k + 1]))
            {
                var cat = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(c, text[k + 1]));
                char standIn = StandIns[(int)cat];
                if (standIn != '\0')
                {
                    map.Add(k);
                    sb.Append(standIn);
                    k++;
                    continue;
                }
                map.Add(k); sb.Append(c);
                map.Add(k + 1); sb.Append(text[k + 1]);
                k++;
                continue;
            }
            map.Add(k);
            sb.Append(c);
        }
        map.Add(text.Length);
        return (sb.ToString(), map.ToArray());
    }
}
