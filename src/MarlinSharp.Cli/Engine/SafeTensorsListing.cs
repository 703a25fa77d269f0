using System.Globalization;
using MarlinSharp.IO;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Cli.Engine;

/// <summary>One tensor of a listing, with the file (shard) that holds it.</summary>
internal sealed record ListedTensor(string File, SafeTensorInfo Info);

/// <summary>Opens the safetensors files of a file or model folder and prints their tensors as a table.</summary>
internal static class SafeTensorsListing
{
    /// <summary>
    /// The weight files of a model folder: the shards model.safetensors.index.json names (in order of first mention),
    /// else model.safetensors, else every *.safetensors file in the folder.
    /// </summary>
    public static IReadOnlyList<string> ModelFiles(string directory)
    {
        string index = Path.Combine(directory, LlamaCheckpoint.IndexFile);
        if (File.Exists(index))
        {
            var files = LlamaCheckpoint.ReadIndex(index).Select(e => e.File).Distinct(StringComparer.Ordinal).Select(f => Path.Combine(directory, f)).ToList();
            foreach (var f in files)
                if (!File.Exists(f)) throw new FileNotFoundException($"'{index}' maps tensors to '{Path.GetFileName(f)}', which is not in '{directory}'.", f);
            return files;
        }
        string single = Path.Combine(directory, LlamaCheckpoint.SingleFile);
        if (File.Exists(single)) return [single];
        var all = Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        return all.Count > 0 ? all : throw new FileNotFoundException($"'{directory}' has no .safetensors files.", single);
    }

    /// <summary>Reads the headers of <paramref name="paths"/> (each validated); the files are closed again.</summary>
    public static List<ListedTensor> Read(IEnumerable<string> paths, Action<string, SafeTensorsFile>? onFile = null)
    {
        var result = new List<ListedTensor>();
        foreach (string path in paths)
        {
            using var file = SafeTensorsFile.Open(path);
            onFile?.Invoke(path, file);
            result.AddRange(file.Tensors.Select(t => new ListedTensor(Path.GetFileName(path), t)));
        }
        return result;
    }

    public static void PrintTable(TextWriter output, IReadOnlyList<ListedTensor> tensors, bool withFile)
    {
        int nameWidth = Math.Max(4, tensors.Count == 0 ? 0 : tensors.Max(t => t.Info.Name.Length));
        int shapeWidth = Math.Max(5, tensors.Count == 0 ? 0 : tensors.Max(t => t.Info.ShapeText.Length));
        output.WriteLine($"{"name".PadRight(nameWidth)}  {"dtype",-5}  {"shape".PadRight(shapeWidth)}{(withFile ? "  file" : "")}".TrimEnd());
        foreach (var t in tensors)
            output.WriteLine($"{t.Info.Name.PadRight(nameWidth)}  {SafeTensorDTypes.ToHeaderName(t.Info.DType),-5}  {t.Info.ShapeText.PadRight(shapeWidth)}{(withFile ? "  " + t.File : "")}".TrimEnd());
    }

    /// <summary>One line per dtype: tensor count, elements and bytes; then the total.</summary>
    public static void PrintSummary(TextWriter output, IReadOnlyList<ListedTensor> tensors, int fileCount)
    {
        foreach (var g in tensors.GroupBy(t => t.Info.DType).OrderByDescending(g => g.Sum(t => t.Info.ByteLength)))
            output.WriteLine($"  {SafeTensorDTypes.ToHeaderName(g.Key),-5} {g.Count(),6} tensors  {Count(g.Sum(t => t.Info.ElementCount)),8} elements  {Bytes(g.Sum(t => t.Info.ByteLength)),9}");
        output.WriteLine($"  total {tensors.Count,6} tensors  {Count(tensors.Sum(t => t.Info.ElementCount)),8} elements  {Bytes(tensors.Sum(t => t.Info.ByteLength)),9}  in {fileCount} file{(fileCount == 1 ? "" : "s")}");
    }

    public static string Count(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("F2", CultureInfo.InvariantCulture) + " B",
        >= 1_000_000 => (n / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " M",
        >= 10_000 => (n / 1e3).ToString("F1", CultureInfo.InvariantCulture) + " K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    public static string Bytes(long n) => n switch
    {
        >= 1L << 30 => (n / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (n / (double)(1L << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (n / (double)(1L << 10)).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
        _ => n.ToString(CultureInfo.InvariantCulture) + " bytes",
    };
}
