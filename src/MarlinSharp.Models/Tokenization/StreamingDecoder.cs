namespace MarlinSharp.Models.Tokenization;

/// <summary>
/// Turns generated ids, one at a time, into text to print as it comes. Each <see cref="Add"/> decodes all ids so far
/// (so decoders that look at neighbouring tokens, such as the SentencePiece leading-space rule, give the same text as
/// one final decode) and returns only the new part. A trailing U+FFFD is held back, because it usually stands for a
/// multi-byte UTF-8 character whose remaining bytes are still to come; <see cref="Flush"/> returns whatever is left.
/// Decoding everything each time costs O(n²) characters over n tokens, negligible next to a model step for the lengths
/// a command line prints.
/// </summary>
public sealed class StreamingDecoder
{
    private const char Replacement = '\uFFFD';
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<int> _ids = [];
    private string _text = "";
    private int _emitted;

    public StreamingDecoder(Tokenizer tokenizer, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>All ids added so far.</summary>
    public IReadOnlyList<int> Ids => _ids;

    /// <summary>Adds one id; returns the text that is now complete and was not returned before (often empty).</summary>
    public string Add(int id)
    {
        _ids.Add(id);
        _text = _tokenizer.Decode(_ids.ToArray(), _skipSpecialTokens);
        int end = _text.Length;
        while (end > _emitted && _text[end - 1] == Replacement) end--;
        return Take(end);
    }

    /// <summary>The rest of the text, including held-back replacement characters.</summary>
    public string Flush() => Take(_text.Length);

    private string Take(int end)
    {
        // Decoding all ids again can in principle rewrite text already printed; printing continues from what was printed.
        if (end <= _emitted) return "";
        string piece = _text[_emitted..end];
        _emitted = end;
        return piece;
    }
}
