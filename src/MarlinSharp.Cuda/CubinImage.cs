using System.Buffers.Binary;

namespace MarlinSharp.Cuda;

/// <summary>Cheap structural checks on a CUBIN (64-bit little-endian ELF) image.</summary>
internal static class CubinImage
{
    private const int ElfHeaderSize = 64;

    /// <summary>
    /// True when <paramref name="image"/> starts with the ELF magic, is 64-bit little-endian, and its
    /// program and section header tables lie inside the image (which catches truncated files).
    /// </summary>
    internal static bool IsPlausible(ReadOnlySpan<byte> image)
    {
        if (image.Length < ElfHeaderSize) return false;
        if (image[0] != 0x7F || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F') return false;
        if (image[4] != 2 /* ELFCLASS64 */ || image[5] != 1 /* little endian */) return false;

        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(image[0x20..]);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(image[0x28..]);
        ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(image[0x36..]);
        ushort phnum = BinaryPrimitives.ReadUInt16LittleEndian(image[0x38..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(image[0x3A..]);
        ushort shnum = BinaryPrimitives.ReadUInt16LittleEndian(image[0x3C..]);

        ulong length = (ulong)image.Length;
        return TableFits(phoff, phentsize, phnum, length) && TableFits(shoff, shentsize, shnum, length);
    }

    private static bool TableFits(ulong offset, ushort entrySize, ushort count, ulong length) =>
        count == 0 || (offset <= length && (ulong)entrySize * count <= length - offset);
}
