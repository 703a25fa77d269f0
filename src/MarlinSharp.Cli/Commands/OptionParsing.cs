using System.Globalization;

namespace MarlinSharp.Cli.Commands;

/// <summary>Parsers for comma-separated option values; errors name the option and the bad item.</summary>
internal static class OptionParsing
{
    /// <summary>"1,2,4" → [1, 2, 4]; null for null/blank text. Every item must be a positive integer.</summary>
    public static int[]? PositiveIntList(string? text, string option) => IntList(text, option, minimum: 1, "a positive integer");

    /// <summary>"1,2,3" → [1, 2, 3]: token ids (non-negative integers); null for null/blank text.</summary>
    public static int[]? TokenIds(string? text, string option) => IntList(text, option, minimum: 0, "a token id (a non-negative integer)");

    private static int[]? IntList(string? text, string option, int minimum, string what)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var values = text.Split(',', StringSplitOptions.TrimEntries).Select(t =>
            int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= minimum
                ? v
                : throw new ArgumentException($"{option}: '{t}' is not {what}.")).ToArray();
        return values;
    }

    /// <summary>Throws "option: must be ..." unless <paramref name="ok"/>.</summary>
    public static void Require(bool ok, string option, string rule)
    {
        if (!ok) throw new ArgumentException($"{option}: {rule}.");
    }
}
