using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MarlinSharp.IO;

/// <summary>Writes safetensors files (header padded with spaces to a multiple of 8 bytes, data in the given order).</summary>
public static class SafeTensorsWriter
{
    /// <summary>
    /// Writes the tensors and optional metadata to <paramref name="path"/>. The file is written beside the target and
    /// renamed over it when complete, so readers never see a partial file.
    /// </summary>
    /// <exception cref="ArgumentException">A duplicate, empty or reserved name, a negative dimension, or data whose length does not match shape × dtype size.</exception>
    public static void Write(
        string path,
        IEnumerable<(string Name, SafeTensorDType DType, long[] Shape, ReadOnlyMemory<byte> Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in list)
        {
            if (string.IsNullOrEmpty(t.Name) || t.Name == "__metadata__")
            {
                throw new ArgumentException($"Tensor name '{t.Name}' is empty or reserved.", nameof(tensors));
            }

            if (!names.Add(t.Name))
            {
                throw new ArgumentException($"Tensor name '{t.Name}' appears twice.", nameof(tensors));
            }

            ArgumentNullException.ThrowIfNull(t.Shape, nameof(tensors));
            long elements;
            try
            {
                elements = new SafeTensorInfo(t.Name, t.DType, t.Shape, 0, 0).ElementCount;
            }
            catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
            {
                throw new ArgumentException($"Tensor '{t.Name}' has an invalid shape [{string.Join(", ", t.Shape)}].", nameof(tensors), e);
            }

            long expected = checked(elements * SafeTensorDTypes.SizeOf(t.DType));
            if (t.Data.Length != expected)
            {
                throw new ArgumentException(
                    $"Tensor '{t.Name}' has {t.Data.Length} bytes of data; shape [{string.Join(", ", t.Shape)}] of {SafeTensorDTypes.ToHeaderName(t.DType)} needs {expected}.",
                    nameof(tensors));
            }
        }

        byte[] header = BuildHeader(list, metadata);
        string fullPath = Path.GetFullPath(path);
        string temp = fullPath + "." + Environment.ProcessId + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> lengthField = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(lengthField, (ulong)header.Length);
                stream.Write(lengthField);
                stream.Write(header);
                foreach (var t in list)
                {
                    stream.Write(t.Data.Span);
                }
            }

            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
                // Best effort; the original error matters more.
            }

            throw;
        }
    }

    /// <summary>Convenience: a writer entry for an array of a natively mapped element type (Half → F16, float → F32, ...).</summary>
    public static (string Name, SafeTensorDType DType, long[] Shape, ReadOnlyMemory<byte> Data) Entry<T>(string name, long[] shape, T[] data)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        SafeTensorDType dtype = SafeTensorDTypes.ForElementType<T>()
            ?? throw new ArgumentException($"No safetensors dtype maps to {typeof(T).Name}.", nameof(data));
        return (name, dtype, shape, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    private static byte[] BuildHeader(
        List<(string Name, SafeTensorDType DType, long[] Shape, ReadOnlyMemory<byte> Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var kv in metadata)
                {
                    json.WriteString(kv.Key, kv.Value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var t in tensors)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", SafeTensorDTypes.ToHeaderName(t.DType));
                json.WriteStartArray("shape");
                foreach (long d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += t.Data.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        int length = (int)buffer.Length;
        int padded = (length + 7) & ~7;
        byte[] header = new byte[padded];
        buffer.GetBuffer().AsSpan(0, length).CopyTo(header);
        header.AsSpan(length).Fill((byte)' ');
        return header;
    }
}
