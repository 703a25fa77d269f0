using MarlinSharp.Models.Tokenization;

namespace MarlinSharp.Cli.Engine;

/// <summary>Finds and loads tokenizer.json (plus tokenizer_config.json beside it when present), with errors naming the file.</summary>
internal static class TokenizerFiles
{
    public const string TokenizerJson = "tokenizer.json";
    public const string TokenizerConfigJson = "tokenizer_config.json";

    /// <summary>Loads a tokenizer.json file; tokenizer_config.json in the same folder is read too when <paramref name="withConfig"/>.</summary>
    public static Tokenizer Load(string tokenizerJsonPath, bool withConfig)
    {
        string path = Path.GetFullPath(tokenizerJsonPath);
        if (Directory.Exists(path)) path = Path.Combine(path, TokenizerJson);
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file '{path}' does not exist.", path);
        string? config = withConfig ? Path.Combine(Path.GetDirectoryName(path)!, TokenizerConfigJson) : null;
        return Tokenizer.FromFile(path, config is not null && File.Exists(config) ? config : null);
    }

    /// <summary>The model folder's tokenizer, or null when it has no tokenizer.json.</summary>
    public static Tokenizer? TryLoadFromModel(string modelDirectory)
    {
        string path = Path.Combine(modelDirectory, TokenizerJson);
        return File.Exists(path) ? Load(path, withConfig: true) : null;
    }
}
