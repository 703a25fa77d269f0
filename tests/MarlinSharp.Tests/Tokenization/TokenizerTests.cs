using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using MarlinSharp.Models.Tokenization;

namespace MarlinSharp.Tests.Tokenization;

public class ByteLevelBpeTests
{
    private static readonly Tokenizer Tok = TokenizerFixtures.Load(TokenizerFixtures.ByteLevel());

    [Fact]
    public void MergesApplyInRankOrder()
    {
        // "hello": "h e" (rank 0) wins over "e l" (rank 4), then "l l" (rank 3): he, ll, o.
        Assert.Equal([256, 259, 'o'], Tok.Encode("hello", addSpecialTokens: false));
        // Same vocab, "e l" ranked first: h, el, l, o.
        var reordered = TokenizerFixtures.Load(TokenizerFixtures.ByteLevel(["e l", "h e", "Ġ t", "Ġt he", "l l"]));
        Assert.Equal(['h', 260, 'l', 'o'], reordered.Encode("hello", addSpecialTokens: false));
    }

    [Fact]
    public void MergesAsPairsAreEquivalentToStrings()
    {
        var pairs = TokenizerFixtures.Load(TokenizerFixtures.ByteLevel(pairMerges: true));
        Assert.Equal(Tok.Encode("the hello there"), pairs.Encode("the hello there"));
    }

    [Fact]
    public void ChainedMergesAndSpaceMarker()
    {
        // " the" -> "Ġthe": "h e" -> "Ġ t" -> "Ġt he".
        Assert.Equal([258], Tok.Encode(" the", false));
        // "the" has no leading space: t, he.
        Assert.Equal(['t', 256], Tok.Encode("the", false));
        // pre-tokenized as "the", " hello": [t, he] [Ġ, he, ll, o]
        Assert.Equal(['t', 256, ' ', 256, 259, 'o'], Tok.Encode("the hello", false));
    }

    [Fact]
    public void TemplateAddsBeginOfText()
    {
        Assert.Equal([300, 258], Tok.Encode(" the"));
        Assert.Equal([300], Tok.Encode(""));
        Assert.Empty(Tok.Encode("", false));
        Assert.Equal(300, Tok.BosTokenId);
        Assert.Equal(301, Tok.EosTokenId);
        Assert.Equal(new HashSet<int> { 300, 301 }, Tok.SpecialTokenIds.ToHashSet());
        Assert.Equal(302, Tok.VocabularySize);
    }

    [Fact]
    public void SpecialTokensInTextAreMatchedAndNeverSplit()
    {
        Assert.Equal([300, 300, 258, 301], Tok.Encode("<|begin_of_text|> the<|end_of_text|>"));
        Assert.Equal([300, 258, 301], Tok.Encode("<|begin_of_text|> the<|end_of_text|>", addSpecialTokens: false));
        // A partial special token is ordinary text: "<|" ... bytes.
        var ids = Tok.Encode("<|begin", false);
        Assert.DoesNotContain(300, ids);
        Assert.Equal("<|begin", Tok.Decode(ids));
    }

    [Fact]
    public void DecodeSkipsSpecialTokensWhenAsked()
    {
        int[] ids = [300, 258, 32, 256, 259, 'o', 301];
        Assert.Equal("<|begin_of_text|> the hello<|end_of_text|>", Tok.Decode(ids));
        Assert.Equal(" the hello", Tok.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void TokenLookups()
    {
        Assert.Equal("Ġthe", Tok.TokenToString(258));
        Assert.Equal("<|end_of_text|>", Tok.TokenToString(301));
        Assert.Null(Tok.TokenToString(5000));
        Assert.Equal(258, Tok.TokenToId("Ġthe"));
        Assert.Equal(300, Tok.TokenToId("<|begin_of_text|>"));
        Assert.Null(Tok.TokenToId("nope-not-a-token"));
    }

    [Fact]
    public void ArbitraryUnicodeRoundTrips()
    {
        string[] samples =
        [
            "Hello, world!", "naïve café — déjà vu", "日本語のテキストと中文", "emoji 👩‍👩‍👧 🎉🚀 ok",
            "tabs\tand\nnewlines\r\n  spaces   end ", "𠀀𠀁 astral letters 𝒜𝒷", "مرحبا بالعالم", "ÅΩ≈ç√∫˜µ≤≥÷",
            "  leading and trailing  ", "12345678901234567890", "x = f(a, b) { return a->b[3]; }", "",
        ];
        foreach (var s in samples)
        {
            var ids = Tok.Encode(s, false);
            Assert.Equal(s, Tok.Decode(ids));
            Assert.All(ids, id => Assert.InRange(id, 0, 260));
        }
        var rng = new Random(1234);
        for (int n = 0; n < 200; n++)
        {
            var sb = new StringBuilder();
            int len = rng.Next(0, 40);
            for (int i = 0; i < len; i++)
            {
                int cp = rng.Next(4) switch
                {
                    0 => rng.Next(0x20, 0x7F),
                    1 => rng.Next(0xA0, 0x800),
                    2 => rng.Next(0x3000, 0xD7FF),
                    _ => rng.Next(0x1F300, 0x1FAFF),
                };
                sb.Append(char.ConvertFromUtf32(cp));
            }
            string s = sb.ToString();
            Assert.Equal(s, Tok.Decode(Tok.Encode(s, false)));
        }
    }

    [Fact]
    public void Llama3SplitGroupsDigitsInThrees()
    {
        // "12345" splits as "123", "45" -> no merges, so one id per byte, but a decode round trip keeps it.
        var ids = Tok.Encode("12345", false);
        Assert.Equal(['1', '2', '3', '4', '5'], ids);
    }

    [Fact]
    public void LargeTextEncodesQuickly()
    {
        var sb = new StringBuilder();
        var rng = new Random(7);
        string[] words = ["the", "hello", "world", "naïve", "日本語", "🎉", "x=1;", "12345", "\n", "  "];
        while (sb.Length < 1_000_000) sb.Append(words[rng.Next(words.Length)]).Append(' ');
        string text = sb.ToString();
        var sw = Stopwatch.StartNew();
        var ids = Tok.Encode(text, false);
        sw.Stop();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"1 MB byte-level encode took {sw.Elapsed}");
        Assert.Equal(text, Tok.Decode(ids));

        var sp = TokenizerFixtures.Load(TokenizerFixtures.SentencePiece());
        sw.Restart();
        // No pre-tokenizer: the whole text is one BPE word, which must not be quadratic.
        var spIds = sp.Encode(text, false);
        sw.Stop();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"1 MB single-word SentencePiece encode took {sw.Elapsed}");
        Assert.Equal(text, sp.Decode(spIds));
    }

    [Fact]
    public void IgnoreMergesUsesWholeWordFromVocab()
    {
        var doc = TokenizerFixtures.ByteLevel(["Ġ t", "h e", "Ġt he"]);
        var vocab = doc["model"]!["vocab"]!.AsObject();
        vocab["Ġhe"] = 261; // reachable only as a whole word: no merge produces it
        Assert.Equal([' ', 256], TokenizerFixtures.Load(doc).Encode(" he", false));
        doc["model"]!["ignore_merges"] = true;
        Assert.Equal([261], TokenizerFixtures.Load(doc).Encode(" he", false));
    }
}

public class SentencePieceBpeTests
{
    private static readonly Tokenizer Tok = TokenizerFixtures.Load(TokenizerFixtures.SentencePiece());

    [Fact]
    public void PrependNormalizerAndMerges()
    {
        Assert.Equal([1, 268], Tok.Encode("hello"));
        Assert.Equal([268], Tok.Encode("hello", addSpecialTokens: false));
        // "hello hello" -> "▁hello▁hello" as one word.
        Assert.Equal([268, 268], Tok.Encode("hello hello", false));
        Assert.Equal(1, Tok.BosTokenId);
        Assert.Equal(2, Tok.EosTokenId);
        Assert.Equal(274, Tok.VocabularySize);
    }

    [Fact]
    public void ByteFallbackForUnseenCharacters()
    {
        // é = C3 A9 -> <0xC3> (3 + 0xC3), <0xA9> (3 + 0xA9)
        Assert.Equal([264, 3 + 0xC3, 3 + 0xA9], Tok.Encode("hé", false));
        Assert.Equal("hé", Tok.Decode([264, 3 + 0xC3, 3 + 0xA9]));
        // 🎉 = F0 9F 8E 89
        Assert.Equal([259, 3 + 0xF0, 3 + 0x9F, 3 + 0x8E, 3 + 0x89], Tok.Encode("🎉", false));
        Assert.Equal("🎉", Tok.Decode(Tok.Encode("🎉"), skipSpecialTokens: true));
        // A truncated UTF-8 sequence decodes to one U+FFFD per byte, like the reference decoder.
        Assert.Equal("h\uFFFD\uFFFD", Tok.Decode([264, 3 + 0xF0, 3 + 0x9F]));
    }

    [Fact]
    public void UnknownCharactersFuseIntoOneUnkWithoutByteFallback()
    {
        var tok = TokenizerFixtures.Load(TokenizerFixtures.SentencePiece(byteFallback: false));
        Assert.Equal([264, 0], tok.Encode("hxyz", false));
        Assert.Equal([264, 0, 261], tok.Encode("hxye", false));
    }

    [Fact]
    public void DecodeStripsOneLeadingSpaceAndSkipsSpecials()
    {
        Assert.Equal("<s> hello hello", Tok.Decode([1, 268, 268]));
        Assert.Equal("hello hello", Tok.Decode([1, 268, 268], skipSpecialTokens: true));
        Assert.Equal("hello hello</s>", Tok.Decode([268, 268, 2]));
    }

    [Fact]
    public void AddedTokensSplitTheText()
    {
        // "<sep>" is not special: normalizer Prepend applies to each segment, so both halves get "▁".
        Assert.Equal([1, 268, 272, 268], Tok.Encode("hello<sep>hello"));
        // lstrip on <mask> swallows the space before it.
        Assert.Equal([268, 273], Tok.Encode("hello <mask>", false));
        Assert.Equal([1, 1, 268], Tok.Encode("<s>hello"));
        Assert.Equal("hello<sep> hello", Tok.Decode([268, 272, 268]));
    }

    [Fact]
    public void MetaspacePrependSchemeFirstOnlyAtTextStart()
    {
        var tok = TokenizerFixtures.Load(TokenizerFixtures.SentencePiece(metaspace: true, prependScheme: "first"));
        Assert.Equal([268, 268], tok.Encode("hello hello", false));
        // After an added token the segment does not start the text: no "▁" -> h, el, lo
        Assert.Equal([268, 272, 260, 265, 267], tok.Encode("hello<sep>hello", false));
        Assert.Equal("hello<sep>hello", tok.Decode([268, 272, 260, 265, 267]));
        Assert.Equal([1, 268], tok.Encode("hello"));
        Assert.Equal("hello hello", tok.Decode([1, 268, 268], skipSpecialTokens: true));

        var always = TokenizerFixtures.Load(TokenizerFixtures.SentencePiece(metaspace: true, prependScheme: "always"));
        Assert.Equal([268, 272, 268], always.Encode("hello<sep>hello", false));

        var never = TokenizerFixtures.Load(TokenizerFixtures.SentencePiece(metaspace: true, prependScheme: "never"));
        Assert.Equal([260, 265, 267, 268], never.Encode("hello hello", false));
    }

    [Fact]
    public void TokenizerConfigOverridesBosAndEos()
    {
        var tok = TokenizerFixtures.Load(TokenizerFixtures.SentencePiece(),
            """{"bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": "<sep>", "add_bos_token": true}""");
        Assert.Equal(1, tok.BosTokenId);
        Assert.Equal(272, tok.EosTokenId);
        Assert.Contains(272, tok.SpecialTokenIds);
    }
}

public class TokenizerErrorTests
{
    [Fact]
    public void UnsupportedModelTypeNamesTypeAndFile()
    {
        var doc = TokenizerFixtures.SentencePiece();
        doc["model"]!["type"] = "WordPiece";
        var path = Path.Combine(Path.GetTempPath(), $"wp-{Guid.NewGuid():N}-tokenizer.json");
        File.WriteAllText(path, doc.ToJsonString());
        try
        {
            var e = Assert.Throws<NotSupportedException>(() => Tokenizer.FromFile(path));
            Assert.Contains("WordPiece", e.Message);
            Assert.Contains(path, e.Message);
            Assert.Contains("model.type", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void UnknownPreTokenizerNamesType()
    {
        var doc = TokenizerFixtures.ByteLevel();
        doc["pre_tokenizer"]!["pretokenizers"]![0] = new JsonObject { ["type"] = "UnicodeScripts" };
        var e = Assert.Throws<NotSupportedException>(() => TokenizerFixtures.Load(doc));
        Assert.Contains("UnicodeScripts", e.Message);
        Assert.Contains("pre_tokenizer.pretokenizers[0].type", e.Message);
    }

    [Fact]
    public void UnigramIsNotSupported()
    {
        var e = Assert.Throws<NotSupportedException>(() => Tokenizer.FromJson("""{"model": {"type": "Unigram", "vocab": []}}"""));
        Assert.Contains("Unigram", e.Message);
    }

    [Fact]
    public void BadMergeNamesField()
    {
        var doc = TokenizerFixtures.ByteLevel(["h e", "q zz"]);
        var e = Assert.Throws<InvalidDataException>(() => TokenizerFixtures.Load(doc));
        Assert.Contains("model.merges[1]", e.Message);
    }

    [Fact]
    public void BadJsonAndMissingFields()
    {
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => Tokenizer.FromJson("{ nope")).Message);
        Assert.Contains("'model'", Assert.Throws<InvalidDataException>(() => Tokenizer.FromJson("{}")).Message);
        var doc = TokenizerFixtures.SentencePiece();
        doc["added_tokens"]![0]!["id"] = "zero";
        Assert.Contains("added_tokens[0].id", Assert.Throws<InvalidDataException>(() => TokenizerFixtures.Load(doc)).Message);
        doc = TokenizerFixtures.SentencePiece();
        doc["model"]!["unk_token"] = "<missing>";
        Assert.Contains("model.unk_token", Assert.Throws<InvalidDataException>(() => TokenizerFixtures.Load(doc)).Message);
    }
}
