using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MarlinSharp.Cli.Engine;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Cli.Commands;

/// <summary><c>marlin inspect PATH</c>: the tensors of a safetensors file, or a model folder's config summary and tensors.</summary>
internal static class InspectCommand
{
    /// <summary>Tensors a folder listing shows without --all.</summary>
    public const int DefaultListed = 20;

    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = "A .safetensors file or a Hugging Face model folder." };
        var all = new Option<bool>("--all") { Description = $"For a model folder, list every tensor (default: a summary per dtype and the first {DefaultListed})." };
        var command = new Command("inspect", "Print the tensors (name, dtype, shape) of a safetensors file, or of a model folder together with a summary of its config.") { path, all };
        command.SetAction(r => CliAction.Run(r, o => Run(o, r.GetValue(path)!, r.GetValue(all))));
        return command;
    }

    private static int Run(CliOutput output, string pathArg, bool all)
    {
        string path = Path.GetFullPath(pathArg);
        if (Directory.Exists(path)) return InspectFolder(output.Out, path, all);
        if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);

        var w = output.Out;
        var tensors = SafeTensorsListing.Read([path], (_, file) =>
        {
            w.WriteLine($"file {path}");
            foreach (var (key, value) in file.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
                w.WriteLine($"metadata {key} = {value}");
        });
        SafeTensorsListing.PrintTable(w, tensors, withFile: false);
        SafeTensorsListing.PrintSummary(w, tensors, 1);
        return 0;
    }

    private static int InspectFolder(TextWriter w, string dir, bool all)
    {
        var files = SafeTensorsListing.ModelFiles(dir);   // before printing anything: a folder without weights is an error
        w.WriteLine($"model folder {dir}");
        string configPath = Path.Combine(dir, LlamaCheckpoint.ConfigFile);
        if (File.Exists(configPath)) PrintConfig(w, configPath);
        else w.WriteLine($"  config         (no {LlamaCheckpoint.ConfigFile})");

        var tensors = SafeTensorsListing.Read(files);
        w.WriteLine($"files          {string.Join(", ", files.Select(Path.GetFileName))}");
        w.WriteLine("tensors");
        SafeTensorsListing.PrintSummary(w, tensors, files.Count);
        var shown = all ? tensors : tensors.Take(DefaultListed).ToList();
        SafeTensorsListing.PrintTable(w, shown, withFile: files.Count > 1);
        if (shown.Count < tensors.Count) w.WriteLine($"... {tensors.Count - shown.Count} more (--all lists every tensor)");
        return 0;
    }

    private static void PrintConfig(TextWriter w, string configPath)
    {
        LlamaConfig c;
        try
        {
            c = LlamaConfig.Load(configPath);
        }
        catch (NotSupportedException e)
        {
            // Still worth listing the tensors of a model this engine cannot run.
            w.WriteLine($"  config         not a model this engine runs: {CliAction.OneLine(e.Message)}");
            return;
        }
        string I(double x) => x.ToString("G", CultureInfo.InvariantCulture);
        string rope = $"theta {I(c.RopeTheta)}" + c.RopeScaling switch
        {
            null => "",
            { Type: "llama3" } s => $", llama3 scaling (factor {I(s.Factor)}, low {I(s.LowFreqFactor)}, high {I(s.HighFreqFactor)}, original context {s.OriginalMaxPositionEmbeddings})",
            var s => $", {s.Type} scaling (factor {I(s.Factor)})",
        };
        w.WriteLine($"  architecture   {Architecture(configPath) ?? c.ModelType} (model_type {c.ModelType})");
        w.WriteLine($"  hidden         {c.HiddenSize} (intermediate {c.IntermediateSize})");
        w.WriteLine($"  layers         {c.NumHiddenLayers}");
        w.WriteLine($"  heads          {c.NumAttentionHeads} (kv heads {c.NumKeyValueHeads}, head_dim {c.HeadDim})");
        w.WriteLine($"  vocab          {c.VocabSize}{(c.TieWordEmbeddings ? " (tied embeddings)" : "")}");
        w.WriteLine($"  rope           {rope}");
        w.WriteLine($"  context        {c.MaxPositionEmbeddings} (max_position_embeddings)");
        w.WriteLine($"  norm eps       {I(c.RmsNormEps)}{(c.AttentionBias ? ", attention bias" : "")}");
        w.WriteLine($"  bos / eos      [{string.Join(", ", c.BosTokenIds)}] / [{string.Join(", ", c.EosTokenIds)}]");
        if (c.TorchDtype is not null) w.WriteLine($"  dtype          {c.TorchDtype}");
    }

    private static string? Architecture(string configPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(configPath), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        return doc.RootElement.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() > 0
            && a[0].ValueKind == JsonValueKind.String ? a[0].GetString() : null;
    }
}
