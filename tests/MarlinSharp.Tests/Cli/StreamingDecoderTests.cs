using MarlinSharp.Models.Tokenization;
using MarlinSharp.Tests.Tokenization;

namespace MarlinSharp.Tests.Cli;

public class StreamingDecoderTests
{
    [Fact]
    public void HoldsBackIncompleteUtf8UntilTheCharacterIsComplete()
    {
        var tok = TokenizerFixtures.Load(TokenizerFixtures.SentencePiece());
        // "▁hello", then "€" (E2 82 AC) as three byte-fallback tokens, then "▁hello" again.
        int[] ids = [268, 3 + 0xE2, 3 + 0x82, 3 + 0xAC, 268];
        var decoder = new StreamingDecoder(tok);
        var pieces = ids.Select(decoder.Add).ToList();
        Assert.Equal(["hello", "", "", "€", " hello"], pieces);
        Assert.Equal("", decoder.Flush());
        Assert.Equal(tok.Decode(ids, skipSpecialTokens: true), string.Concat(pieces));
    }

    [Fact]
    public void FlushReturnsATrailingIncompleteCharacter()
    {
        var tok = TokenizerFixtures.Load(TokenizerFixtures.SentencePiece());
        var decoder = new StreamingDecoder(tok);
        Assert.Equal("hello", decoder.Add(268));
        Assert.Equal("", decoder.Add(3 + 0xE2));
        Assert.Contains('\uFFFD', decoder.Flush());
    }

    [Fact]
    public void SkipsSpecialTokensAndMatchesOneFinalDecodeForByteLevel()
    {
        var tok = TokenizerFixtures.Load(TokenizerFixtures.ByteLevel());
        int[] ids = tok.Encode("the hello <|end_of_text|> é😀 there");
        var decoder = new StreamingDecoder(tok);
        string streamed = string.Concat(ids.Select(decoder.Add)) + decoder.Flush();
        Assert.Equal(tok.Decode(ids, skipSpecialTokens: true), streamed);
        Assert.Equal("the hello  é😀 there", streamed);
    }
}
