using System.Runtime.InteropServices;
using System.Text.Json;
using MarlinSharp.IO;
using MarlinSharp.Models.Configuration;

namespace MarlinSharp.Models.Engine;

/// <summary>
/// A Hugging Face Llama-family model folder: config.json plus model.safetensors or shards listed in
/// model.safetensors.index.json. Opening validates every tensor the engine needs (present, F16/BF16/F32, the shape
/// config.json implies) before anything touches the GPU; errors name the file and the tensor.
/// </summary>
public sealed class LlamaCheckpoint : IDisposable
{
    public const string ConfigFile = "config.json";
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    private readonly Dictionary<string, SafeTensorsFile> _files;
    private readonly Dictionary<string, SafeTensorsFile> _byTensor;

    private LlamaCheckpoint(string directory, LlamaConfig config, Dictionary<string, SafeTensorsFile> files, Dictionary<string, SafeTensorsFile> byTensor)
    {
        Directory = directory;
        Config = config;
        _files = files;
        _byTensor = byTensor;
    }

    public string Directory { get; }
    public LlamaConfig Config { get; }

    /// <summary>The generation defaults (generation_config.json, or empty when absent).</summary>
    public GenerationConfig LoadGenerationConfig() => GenerationConfig.Load(Path.Combine(Directory, "generation_config.json"));

    /// <exception cref="FileNotFoundException">No config.json, or no weights file.</exception>
    /// <exception cref="InvalidDataException">A missing, mis-shaped or wrongly typed tensor, or a bad index file.</exception>
    public static LlamaCheckpoint Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir)) throw new DirectoryNotFoundException($"Model folder '{dir}' does not exist.");
        string configPath = Path.Combine(dir, ConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"'{configPath}' is missing: a model folder needs the Hugging Face config.json.", configPath);
        var config = LlamaConfig.Load(configPath);

        var files = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        var byTensor = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        try
        {
            string index = Path.Combine(dir, IndexFile), single = Path.Combine(dir, SingleFile);
            if (File.Exists(index))
            {
                foreach (var (tensor, file) in ReadIndex(index))
                {
                    if (!files.TryGetValue(file, out var st))
                    {
                        string path = Path.Combine(dir, file);
                        if (!File.Exists(path)) throw new FileNotFoundException($"'{index}' maps tensors to '{file}', which is not in '{dir}'.", path);
                        st = SafeTensorsFile.Open(path);
                        files.Add(file, st);
                    }
                    byTensor[tensor] = st;
                }
            }
            else if (File.Exists(single))
            {
                var st = SafeTensorsFile.Open(single);
                files.Add(SingleFile, st);
                foreach (var t in st.Tensors) byTensor[t.Name] = st;
            }
            else
            {
                throw new FileNotFoundException($"'{dir}' has neither {SingleFile} nor {IndexFile}.", single);
            }
            var checkpoint = new LlamaCheckpoint(dir, config, files, byTensor);
            checkpoint.Validate();
            return checkpoint;
        }
        catch
        {
            foreach (var f in files.Values) f.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The "weight_map" of a model.safetensors.index.json: (tensor name, shard file name) pairs in file order. Shard names
    /// must be plain file names (no folders), so an index cannot point outside the model folder.
    /// </summary>
    /// <exception cref="InvalidDataException">Invalid JSON, no weight_map, or a shard name that is not a plain file name.</exception>
    public static IReadOnlyList<(string Tensor, string File)> ReadIndex(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var result = new List<(string, string)>();
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: field 'weight_map' is missing or not an object.");
            foreach (var p in map.EnumerateObject())
            {
                string? file = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                if (string.IsNullOrEmpty(file) || Path.GetFileName(file) != file || file is "." or "..")
                    throw new InvalidDataException($"{path}: field 'weight_map.{p.Name}' must be a plain file name in the model folder (found {p.Value.GetRawText()}).");
                result.Add((p.Name, file));
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
        return result;
    }

    private void Validate()
    {
        foreach (var e in LlamaTensorNames.For(Config))
        {
            if (!_byTensor.TryGetValue(e.Name, out var file) || !file.Contains(e.Name))
            {
                if (e.Optional) continue;
                string where = _byTensor.TryGetValue(e.Name, out var mapped)
                    ? $"'{mapped.Path}' (where {IndexFile} says it is)"
                    : _files.Count == 1 ? $"'{_files.Values.First().Path}'" : $"'{Path.Combine(Directory, IndexFile)}'";
                throw new InvalidDataException($"Tensor '{e.Name}' is missing from {where}.");
            }
            var info = file.GetInfo(e.Name);
            if (info.DType is not (SafeTensorDType.F16 or SafeTensorDType.BF16 or SafeTensorDType.F32))
                throw new InvalidDataException($"Tensor '{e.Name}' in '{file.Path}' has dtype {SafeTensorDTypes.ToHeaderName(info.DType)}; expected F16, BF16 or F32.");
            if (!info.Shape.SequenceEqual(e.Shape))
                throw new InvalidDataException($"Tensor '{e.Name}' in '{file.Path}' has shape {info.ShapeText}; config.json implies [{string.Join(", ", e.Shape)}].");
        }
    }

    /// <summary>Whether the checkpoint has this tensor.</summary>
    public bool Contains(string name) => _byTensor.TryGetValue(name, out var f) && f.Contains(name);

    /// <summary>The tensor's header entry (the file that holds it is in the exception message when it is missing).</summary>
    public SafeTensorInfo GetInfo(string name) => FileOf(name).GetInfo(name);

    private SafeTensorsFile FileOf(string name) =>
        _byTensor.TryGetValue(name, out var f) ? f : throw new KeyNotFoundException($"Tensor '{name}' is not in the checkpoint at '{Directory}'.");

    /// <summary>Reads a tensor converted to FP16 (F16 copied, BF16/F32 rounded to nearest).</summary>
    public Half[] ReadHalf(string name)
    {
        var file = FileOf(name);
        var info = file.GetInfo(name);
        var result = new Half[info.ElementCount];
        CopyHalf(name, result);
        return result;
    }

    /// <summary>Writes the tensor, converted to FP16, into <paramref name="destination"/> (exactly ElementCount long).</summary>
    public void CopyHalf(string name, Span<Half> destination)
    {
        var file = FileOf(name);
        var info = file.GetInfo(name);
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"Tensor '{name}' has {info.ElementCount} elements; the destination holds {destination.Length}.", nameof(destination));
        ReadOnlySpan<byte> bytes = file.GetBytes(name);
        switch (info.DType)
        {
            case SafeTensorDType.F16:
                MemoryMarshal.Cast<byte, Half>(bytes).CopyTo(destination);
                break;
            case SafeTensorDType.BF16:
            {
                var src = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < destination.Length; i++) destination[i] = (Half)BitConverter.UInt32BitsToSingle((uint)src[i] << 16);
                break;
            }
            case SafeTensorDType.F32:
            {
                var src = MemoryMarshal.Cast<byte, float>(bytes);
                for (int i = 0; i < destination.Length; i++) destination[i] = (Half)src[i];
                break;
            }
            default:
                throw new InvalidDataException($"Tensor '{name}' in '{file.Path}' has dtype {SafeTensorDTypes.ToHeaderName(info.DType)}; expected F16, BF16 or F32.");
        }
    }

    /// <summary>The tensors of several names concatenated along dimension 0, as FP16.</summary>
    public Half[] ReadConcatenated(IReadOnlyList<string> names)
    {
        long total = 0;
        foreach (var n in names) total += GetInfo(n).ElementCount;
        var result = new Half[total];
        long offset = 0;
        foreach (var n in names)
        {
            int count = (int)GetInfo(n).ElementCount;
            CopyHalf(n, result.AsSpan((int)offset, count));
            offset += count;
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var f in _files.Values) f.Dispose();
        _files.Clear();
    }
}
