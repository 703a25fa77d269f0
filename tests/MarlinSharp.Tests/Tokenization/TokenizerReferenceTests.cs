using System.Text.Json;
using MarlinSharp.Models.Tokenization;

namespace MarlinSharp.Tests.Tokenization;

/// <summary>
/// Compares against reference outputs of the Hugging Face <c>tokenizers</c> library, produced by
/// scripts/make_tokenizer_reference.py into tests/MarlinSharp.Tests/data/tokenizers/&lt;name&gt;/
/// (tokenizer.json + cases.json).
/// </summary>
public class TokenizerReferenceTests
{
    private static string DataRoot => Path.Combine(AppContext.BaseDirectory, "data", "tokenizers");

    private static List<string> ReferenceFolders() =>
        Directory.Exists(DataRoot)
            ? Directory.GetDirectories(DataRoot)
                .Where(d => File.Exists(Path.Combine(d, "tokenizer.json")) && File.Exists(Path.Combine(d, "cases.json")))
                .OrderBy(d => d, StringComparer.Ordinal).ToList()
            : [];

    [Fact]
    public void MatchesHuggingFaceTokenizersReference()
    {
        var folders = ReferenceFolders();
        if (folders.Count == 0)
            Assert.Skip("No reference data yet: run `python scripts/make_tokenizer_reference.py tests/MarlinSharp.Tests/data/tokenizers` " +
                        "on a machine with the Hugging Face `tokenizers` package and commit the output.");

        var failures = new List<string>();
        int checkedCases = 0;
        foreach (var dir in folders)
        {
            string name = Path.GetFileName(dir);
            var tok = Tokenizer.FromFile(Path.Combine(dir, "tokenizer.json"));
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "cases.json")));
            int index = 0;
            foreach (var c in doc.RootElement.EnumerateArray())
            {
                string text = c.GetProperty("text").GetString()!;
                int[] ids = c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                int[] idsNoSpecial = c.GetProperty("ids_no_special").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                string decoded = c.GetProperty("decoded").GetString()!;
                string label = $"{name} case {index} {JsonSerializer.Serialize(text)}";

                var got = tok.Encode(text, addSpecialTokens: true);
                if (!got.SequenceEqual(ids)) failures.Add($"{label}: ids expected [{string.Join(",", ids)}] got [{string.Join(",", got)}]");
                var gotNo = tok.Encode(text, addSpecialTokens: false);
                if (!gotNo.SequenceEqual(idsNoSpecial)) failures.Add($"{label}: ids_no_special expected [{string.Join(",", idsNoSpecial)}] got [{string.Join(",", gotNo)}]");
                string dec = tok.Decode(ids);
                if (dec != decoded) failures.Add($"{label}: decoded expected {JsonSerializer.Serialize(decoded)} got {JsonSerializer.Serialize(dec)}");
                if (c.TryGetProperty("decoded_skip_special", out var skipEl))
                {
                    string decSkip = tok.Decode(ids, skipSpecialTokens: true);
                    if (decSkip != skipEl.GetString()) failures.Add($"{label}: decoded_skip_special expected {skipEl.GetRawText()} got {JsonSerializer.Serialize(decSkip)}");
                }
                checkedCases++;
                index++;
            }
        }
        Assert.True(checkedCases > 0, $"Reference folders exist under {DataRoot} but contain no cases.");
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches in {checkedCases} cases; first ones:\n" + string.Join("\n", failures.Take(25)));
    }
}
