using System.Globalization;
using System.Text;

namespace MarlinSharp.Models.Tokenization;

/// <summary>An entry of tokenizer.json "added_tokens".</summary>
internal sealed record AddedToken(int Id, string Content, bool SingleWord, bool LStrip, bool RStrip, bool Normalized, bool Special);

/// <summary>
/// Finds added tokens in text: leftmost-longest matching over a character trie, then applies the
/// single_word / lstrip / rstrip rules, and returns segments that cover the whole text.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private sealed class Node
    {
        public Dictionary<char, Node>? Children;
        public AddedToken? Token;
    }

    private readonly Node _root = new();
    public bool IsEmpty { get; }

    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> tokens)
    {
        bool any = false;
        foreach (var (pattern, token) in tokens)
        {
            if (pattern.Length == 0) continue;
            var node = _root;
            foreach (char c in pattern)
            {
                node.Children ??= new Dictionary<char, Node>();
                if (!node.Children.TryGetValue(c, out var child)) node.Children[c] = child = new Node();
                node = child;
            }
            node.Token ??= token;
            any = true;
        }
        IsEmpty = !any;
    }

    /// <summary>Segments (start, end, token or null) covering <paramref name="text"/>.</summary>
    public List<(int Start, int End, AddedToken? Token)> Split(string text)
    {
        var result = new List<(int, int, AddedToken?)>();
        if (IsEmpty || text.Length == 0)
        {
            result.Add((0, text.Length, null));
            return result;
        }
        int startOffset = 0;
        int pos = 0;
        while (pos < text.Length)
        {
            // longest match starting at pos
            var node = _root;
            int bestEnd = -1;
            AddedToken? best = null;
            for (int j = pos; j < text.Length; j++)
            {
                if (node.Children == null || !node.Children.TryGetValue(text[j], out node)) break;
                if (node.Token != null) { best = node.Token; bestEnd = j + 1; }
            }
            if (best == null) { pos++; continue; }
            int start = pos, stop = bestEnd;
            pos = bestEnd;
            if (best.SingleWord)
            {
                bool startOk = start == 0 || !IsWordChar(text, start, before: true);
                bool stopOk = stop == text.Length || !IsWordChar(text, stop, before: false);
                if (!startOk || !stopOk) continue;
            }
            if (best.LStrip)
            {
                int s = start;
                while (s > 0 && IsSpaceBefore(text, s, out int w)) s -= w;
                start = Math.Max(s, startOffset);
            }
            if (best.RStrip)
            {
                while (stop < text.Length && IsSpaceAt(text, stop, out int w)) stop += w;
            }
            if (startOffset < start) result.Add((startOffset, start, null));
            result.Add((start, stop, best));
            startOffset = stop;
            // Matching continues after the token itself (not after stripped spaces), like Aho-Corasick iteration.
        }
        if (startOffset != text.Length) result.Add((startOffset, text.Length, null));
        return result;
    }

    private static bool IsSpaceAt(string s, int i, out int width)
    {
        Rune.DecodeFromUtf16(s.AsSpan(i), out var r, out width);
        return Rune.IsWhiteSpace(r);
    }

    private static bool IsSpaceBefore(string s, int i, out int width)
    {
        int k = i - 1;
        if (char.IsLowSurrogate(s[k]) && k > 0 && char.IsHighSurrogate(s[k - 1])) k--;
        return IsSpaceAt(s, k, out width);
    }

    private static bool IsWordChar(string s, int i, bool before)
    {
        int k = before ? i - 1 : i;
        if (before && char.IsLowSurrogate(s[k]) && k > 0 && char.IsHighSurrogate(s[k - 1])) k--;
        Rune.DecodeFromUtf16(s.AsSpan(k), out var r, out _);
        var cat = Rune.GetUnicodeCategory(r);
        return Rune.IsLetterOrDigit(r) || cat is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
            or UnicodeCategory.EnclosingMark or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.LetterNumber
            or UnicodeCategory.OtherNumber;
    }
}
