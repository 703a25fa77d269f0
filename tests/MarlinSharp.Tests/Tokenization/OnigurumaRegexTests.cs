using System.Text.RegularExpressions;
using MarlinSharp.Models.Tokenization;

namespace MarlinSharp.Tests.Tokenization;

public class OnigurumaRegexTests
{
    [Theory]
    [InlineData(@"a?+", @"(?>a?)")]
    [InlineData(@"a++b", @"(?>a+)b")]
    [InlineData(@"\s*+x", @"(?>\s*)x")]
    [InlineData(@"[^\s\p{L}\p{N}]++", @"(?>[^\s\p{L}\p{N}]+)")]
    [InlineData(@"(?:ab)*+c", @"(?>(?:ab)*)c")]
    [InlineData(@" ?+[^\s]++[\r\n]*+", @"(?>\ ?)(?>[^\s]+)(?>[\r\n]*)")]
    [InlineData(@"\p{N}{1,3}", @"\p{N}{1,3}")]
    [InlineData(@"a{,3}", @"a{0,3}")]
    [InlineData(@"a{2,3}+", @"(?:a{2,3})+")]
    [InlineData(@"a+?b*?", @"a+?b*?")]
    [InlineData(@"(?i:'s|'t)", @"(?i:'s|'t)")]
    [InlineData(@"\x{2581}", @"\u2581")]
    [InlineData(@"[\x{3000}-\x{303F}]", @"[\u3000-\u303F]")]
    [InlineData(@"a{b", @"a\{b")]
    public void TranslatesToDotNetSyntax(string onig, string expected) => Assert.Equal(expected, OnigurumaRegex.Translate(onig));

    [Fact]
    public void PossessivePatternSplitsLikeOniguruma()
    {
        var re = OnigurumaRegex.Compile(@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s*[\r\n]|\s+(?!\S)|\s+", "test");
        var parts = CodePointMatcher.Matches(re, "Hello world's 12345!!!\n  x").Select(m => "Hello world's 12345!!!\n  x"[m.Start..m.End]).ToArray();
        Assert.Equal(["Hello", " world", "'s", " ", "123", "45", "!!!\n", " ", " x"], parts);
    }

    [Fact]
    public void IntervalFollowedByPlusRepeatsTheIntervalAsInOnigurumaRubySyntax()
    {
        var re = OnigurumaRegex.Compile(@"\p{N}{1,3}+", "test");
        Assert.Equal([(0, 5)], CodePointMatcher.Matches(re, "12345"));
    }

    [Fact]
    public void CaseInsensitiveContractions()
    {
        var re = OnigurumaRegex.Compile(@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|\p{L}+", "test");
        var text = "IT'S WE'LL";
        Assert.Equal(["IT", "'S", "WE", "'LL"], CodePointMatcher.Matches(re, text).Select(m => text[m.Start..m.End]).ToArray());
    }

    [Fact]
    public void AstralLettersCountAsLetters()
    {
        var re = new Regex(@"\p{L}+|[^\p{L}]+");
        string text = "ab𠀀𠀁c 🎉🎉";
        var parts = CodePointMatcher.Matches(re, text).Select(m => text[m.Start..m.End]).ToArray();
        Assert.Equal(["ab𠀀𠀁c", " 🎉🎉"], parts);
    }

    [Fact]
    public void UntranslatableConstructsAreReported()
    {
        var e = Assert.Throws<NotSupportedException>(() => OnigurumaRegex.Compile(@"[a-z&&[^aeiou]]", "tokenizer.json: field 'x'"));
        Assert.Contains("tokenizer.json: field 'x'", e.Message);
    }
}
