using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MarlinSharp.IO;

/// <summary>
/// Read-only, memory-mapped safetensors file. Every header field is validated on <see cref="Open"/>; a malformed
/// file gives <see cref="SafeTensorsFormatException"/> and never an out-of-range read.
/// </summary>
/// <remarks>Element data are read as little-endian (the format's byte order); big-endian hosts are not supported.</remarks>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>Largest accepted JSON header (100 MB).</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly Dictionary<string, SafeTensorInfo> _byName;
    private byte* _base;
    private readonly long _fileLength;
    private bool _disposed;

    private SafeTensorsFile(string path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* basePtr, long fileLength,
        IReadOnlyDictionary<string, string> metadata, List<SafeTensorInfo> tensors)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        _fileLength = fileLength;
        Metadata = metadata;
        Tensors = tensors.AsReadOnly();
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>The header's "__metadata__" (empty if absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>Opens, maps and validates a safetensors file.</summary>
    /// <exception cref="SafeTensorsFormatException">The file is not a valid safetensors file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = System.IO.Path.GetFullPath(path);
        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length;
        MemoryMappedFile map;
        try
        {
            length = stream.Length;
            if (length < 8)
            {
                throw new SafeTensorsFormatException(fullPath, $"file length {length} is shorter than the 8-byte header length field.");
            }

            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* ptr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            acquired = true;
            ptr += view.PointerOffset;
            var (metadata, tensors) = ParseHeader(fullPath, new ReadOnlySpan<byte>(ptr, (int)Math.Min(length, int.MaxValue)), length);
            return new SafeTensorsFile(fullPath, map, view, ptr, length, metadata, tensors);
        }
        catch
        {
            if (acquired)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }

            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Whether a tensor of this name exists.</summary>
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.ContainsKey(name);
    }

    /// <summary>The tensor's header entry.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor (the message names the file and the tensor).</exception>
    public SafeTensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_byName.TryGetValue(name, out SafeTensorInfo? info))
        {
            throw new KeyNotFoundException($"Tensor '{name}' not found in safetensors file '{Path}'.");
        }

        return info;
    }

    /// <summary>The tensor's raw bytes, zero-copy over the mapping; valid until <see cref="Dispose"/>.</summary>
    /// <exception cref="NotSupportedException">The tensor is larger than 2 GiB (a span cannot describe it).</exception>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        SafeTensorInfo info = GetInfo(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (info.ByteLength > int.MaxValue)
        {
            throw new NotSupportedException($"Tensor '{name}' in '{Path}' has {info.ByteLength} bytes; spans are limited to {int.MaxValue}.");
        }

        return new ReadOnlySpan<byte>(_base + info.DataOffset, (int)info.ByteLength);
    }

    /// <summary>
    /// Copies the tensor into a new array. The dtype must match <typeparamref name="T"/>: Half←F16, float←F32,
    /// double←F64, int←I32, uint←U32, long←I64, ulong←U64, short←I16, ushort←U16 or BF16 (raw bits), byte←U8,
    /// sbyte←I8, bool←BOOL.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tensor's dtype does not match <typeparamref name="T"/>.</exception>
    public T[] Read<T>(string name)
        where T : unmanaged
    {
        SafeTensorInfo info = GetInfo(name);
        SafeTensorDType? expected = SafeTensorDTypes.ForElementType<T>();
        bool ok = expected == info.DType || (typeof(T) == typeof(ushort) && info.DType == SafeTensorDType.BF16);
        if (!ok)
        {
            string want = expected is { } e ? SafeTensorDTypes.ToHeaderName(e) : "(no dtype maps to this type)";
            throw new InvalidOperationException(
                $"Tensor '{name}' in '{Path}' has dtype {SafeTensorDTypes.ToHeaderName(info.DType)}; reading it as {typeof(T).Name} needs {want}.");
        }

        return CopyAs<T>(name, info);
    }

    /// <summary>Reads a BF16 tensor, widening each element to float (exact).</summary>
    public float[] ReadBFloat16AsSingle(string name)
    {
        SafeTensorInfo info = GetInfo(name);
        if (info.DType != SafeTensorDType.BF16)
        {
            throw new InvalidOperationException($"Tensor '{name}' in '{Path}' has dtype {SafeTensorDTypes.ToHeaderName(info.DType)}; expected BF16.");
        }

        ReadOnlySpan<byte> bytes = GetBytes(name);
        var result = new float[info.ElementCount];
        for (int i = 0; i < result.Length; i++)
        {
            uint bits = (uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i, 2)) << 16;
            result[i] = BitConverter.UInt32BitsToSingle(bits);
        }

        return result;
    }

    /// <summary>Reads an F32, F16 or BF16 tensor as float.</summary>
    public float[] ReadAsSingle(string name)
    {
        SafeTensorInfo info = GetInfo(name);
        switch (info.DType)
        {
            case SafeTensorDType.F32:
                return Read<float>(name);
            case SafeTensorDType.BF16:
                return ReadBFloat16AsSingle(name);
            case SafeTensorDType.F16:
                Half[] h = Read<Half>(name);
                var f = new float[h.Length];
                for (int i = 0; i < h.Length; i++)
                {
                    f[i] = (float)h[i];
                }

                return f;
            default:
                throw new InvalidOperationException(
                    $"Tensor '{name}' in '{Path}' has dtype {SafeTensorDTypes.ToHeaderName(info.DType)}; expected F32, F16 or BF16.");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }

        _map?.Dispose();
        _base = null;
    }

    private T[] CopyAs<T>(string name, SafeTensorInfo info)
        where T : unmanaged
    {
        if (info.ElementCount > Array.MaxLength)
        {
            throw new NotSupportedException($"Tensor '{name}' in '{Path}' has {info.ElementCount} elements, more than one array holds.");
        }

        ReadOnlySpan<byte> bytes = GetBytes(name);
        var result = new T[info.ElementCount];
        bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
        if (typeof(T) == typeof(bool))
        {
            // Normalize to canonical true/false; a byte other than 0/1 is not a bool.
            Span<byte> raw = MemoryMarshal.AsBytes(result.AsSpan());
            for (int i = 0; i < raw.Length; i++)
            {
                if (raw[i] > 1)
                {
                    throw new SafeTensorsFormatException(Path, $"tensor '{name}' (BOOL) holds byte {raw[i]} at element {i}.");
                }
            }
        }

        return result;
    }

    private static (IReadOnlyDictionary<string, string> Metadata, List<SafeTensorInfo> Tensors) ParseHeader(
        string path, ReadOnlySpan<byte> file, long fileLength)
    {
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength == 0)
        {
            throw new SafeTensorsFormatException(path, "header length is 0; expected a JSON object.");
        }

        if (headerLength > MaxHeaderLength)
        {
            throw new SafeTensorsFormatException(path, $"header length {headerLength} exceeds the limit of {MaxHeaderLength} bytes.");
        }

        if (headerLength > (ulong)(fileLength - 8))
        {
            throw new SafeTensorsFormatException(path, $"header length {headerLength} runs past the end of the file ({fileLength} bytes, {fileLength - 8} after the length field).");
        }

        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        ReadOnlySpan<byte> json = file.Slice(8, (int)headerLength);

        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new SafeTensorsFormatException(path, "header is not valid UTF-8 JSON.");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, $"header is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SafeTensorsFormatException(path, $"header must be a JSON object; found {root.ValueKind}.");
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafeTensorInfo>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (JsonProperty prop in root.EnumerateObject())
            {
                if (prop.Name == MetadataKey)
                {
                    if (sawMetadata)
                    {
                        throw new SafeTensorsFormatException(path, "header has '__metadata__' twice.");
                    }

                    sawMetadata = true;
                    ParseMetadata(path, prop.Value, metadata);
                    continue;
                }

                if (!names.Add(prop.Name))
                {
                    throw new SafeTensorsFormatException(path, $"tensor '{prop.Name}' appears twice in the header.");
                }

                tensors.Add(ParseTensor(path, prop.Name, prop.Value, dataStart, dataLength));
            }

            CheckNoOverlap(path, tensors);
            return (metadata, tensors);
        }
    }

    private static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafeTensorsFormatException(path, $"'__metadata__' must be an object of strings; found {value.ValueKind}.");
        }

        foreach (JsonProperty entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new SafeTensorsFormatException(path, $"'__metadata__.{entry.Name}' must be a string; found {entry.Value.ValueKind}.");
            }

            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
            {
                throw new SafeTensorsFormatException(path, $"'__metadata__.{entry.Name}' appears twice.");
            }
        }
    }

    private static SafeTensorInfo ParseTensor(string path, string name, JsonElement value, long dataStart, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafeTensorsFormatException(path, $"entry '{name}' must be an object with dtype, shape and data_offsets; found {value.ValueKind}.");
        }

        if (!value.TryGetProperty("dtype", out JsonElement dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
        {
            throw new SafeTensorsFormatException(path, $"'{name}.dtype' is missing or not a string.");
        }

        string? dtypeName = dtypeEl.GetString();
        if (!SafeTensorDTypes.TryParseHeaderName(dtypeName, out SafeTensorDType dtype))
        {
            throw new SafeTensorsFormatException(path, $"'{name}.dtype' = '{dtypeName}' is not a known dtype.");
        }

        if (!value.TryGetProperty("shape", out JsonElement shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
        {
            throw new SafeTensorsFormatException(path, $"'{name}.shape' is missing or not an array.");
        }

        var shape = new long[shapeEl.GetArrayLength()];
        long elements = 1;
        bool overflow = false;
        int d = 0;
        foreach (JsonElement dimEl in shapeEl.EnumerateArray())
        {
            if (dimEl.ValueKind != JsonValueKind.Number || !dimEl.TryGetInt64(out long dim) || dim < 0)
            {
                throw new SafeTensorsFormatException(path, $"'{name}.shape[{d}]' = {dimEl.GetRawText()} is not a non-negative integer.");
            }

            shape[d++] = dim;
            if (!overflow)
            {
                try
                {
                    elements = checked(elements * dim);
                }
                catch (OverflowException)
                {
                    overflow = true;
                }
            }
        }

        // A zero dimension anywhere makes the tensor empty, even if other dimensions overflowed.
        if (overflow && Array.IndexOf(shape, 0L) < 0)
        {
            throw new SafeTensorsFormatException(path, $"'{name}.shape' [{string.Join(", ", shape)}] has an element count that overflows 64 bits.");
        }

        if (overflow)
        {
            elements = 0;
        }

        long expectedBytes;
        try
        {
            expectedBytes = checked(elements * SafeTensorDTypes.SizeOf(dtype));
        }
        catch (OverflowException)
        {
            throw new SafeTensorsFormatException(path, $"'{name}.shape' [{string.Join(", ", shape)}] with dtype {dtypeName} has a byte size that overflows 64 bits.");
        }

        if (!value.TryGetProperty("data_offsets", out JsonElement offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
        {
            throw new SafeTensorsFormatException(path, $"'{name}.data_offsets' is missing or not an array of two integers.");
        }

        JsonElement beginEl = offEl[0];
        JsonElement endEl = offEl[1];
        if (beginEl.ValueKind != JsonValueKind.Number || !beginEl.TryGetInt64(out long begin)
            || endEl.ValueKind != JsonValueKind.Number || !endEl.TryGetInt64(out long end))
        {
            throw new SafeTensorsFormatException(path, $"'{name}.data_offsets' = {offEl.GetRawText()} must hold two integers.");
        }

        if (begin < 0 || end < begin || end > dataLength)
        {
            throw new SafeTensorsFormatException(path,
                $"'{name}.data_offsets' = [{begin}, {end}] is outside the data section of {dataLength} bytes (need 0 <= begin <= end <= {dataLength}).");
        }

        if (end - begin != expectedBytes)
        {
            throw new SafeTensorsFormatException(path,
                $"'{name}.data_offsets' = [{begin}, {end}] spans {end - begin} bytes, but shape [{string.Join(", ", shape)}] of {dtypeName} needs {expectedBytes}.");
        }

        return new SafeTensorInfo(name, dtype, shape, dataStart + begin, end - begin);
    }

    private static void CheckNoOverlap(string path, List<SafeTensorInfo> tensors)
    {
        var sorted = tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.DataOffset).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            SafeTensorInfo prev = sorted[i - 1];
            SafeTensorInfo cur = sorted[i];
            if (cur.DataOffset < prev.DataOffset + prev.ByteLength)
            {
                throw new SafeTensorsFormatException(path,
                    $"'{cur.Name}.data_offsets' overlaps the data of tensor '{prev.Name}'.");
            }
        }
    }
}
