using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using MarlinSharp.IO;

namespace MarlinSharp.Tests.IO;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "marlinsharp-st-" + Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string PathFor(string name) => Path.Combine(_dir, name);

    [Fact]
    public void WriterRoundTripsEveryNativeTypeAndMetadata()
    {
        const int seed = 1234;
        var rng = new Random(seed);
        Half[] h = Enumerable.Range(0, 6).Select(_ => (Half)rng.NextDouble()).ToArray();
        float[] f = Enumerable.Range(0, 5).Select(_ => (float)rng.NextDouble()).ToArray();
        int[] i32 = Enumerable.Range(0, 8).Select(_ => rng.Next(int.MinValue, int.MaxValue)).ToArray();
        byte[] u8 = Enumerable.Range(0, 7).Select(_ => (byte)rng.Next(256)).ToArray();
        double[] f64 = [Math.PI, -0.0, double.MaxValue];
        long[] i64 = [long.MinValue, 0, long.MaxValue];
        sbyte[] i8 = [-128, 0, 127];
        short[] i16 = [short.MinValue, 1];
        bool[] flags = [true, false, true];
        string path = PathFor("round.safetensors");
        var meta = new Dictionary<string, string> { ["k"] = "256", ["format"] = "pt", ["ünïcode"] = "✓" };
        SafeTensorsWriter.Write(
            path,
            [
                SafeTensorsWriter.Entry("h", [2, 3], h),
                SafeTensorsWriter.Entry("f", [5], f),
                SafeTensorsWriter.Entry("i32", [2, 2, 2], i32),
                SafeTensorsWriter.Entry("u8", [7], u8),
                SafeTensorsWriter.Entry("f64", [3], f64),
                SafeTensorsWriter.Entry("i64", [3], i64),
                SafeTensorsWriter.Entry("i8", [3], i8),
                SafeTensorsWriter.Entry("i16", [2], i16),
                SafeTensorsWriter.Entry("flags", [3], flags),
                SafeTensorsWriter.Entry("empty", [4, 0, 3], Array.Empty<float>()),
                SafeTensorsWriter.Entry("scalar", [], new[] { 42 }),
            ],
            meta);

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(Path.GetFullPath(path), file.Path);
        Assert.Equal(meta.OrderBy(kv => kv.Key), file.Metadata.OrderBy(kv => kv.Key));
        Assert.Equal(["h", "f", "i32", "u8", "f64", "i64", "i8", "i16", "flags", "empty", "scalar"], file.Tensors.Select(t => t.Name));
        Assert.Equal(h, file.Read<Half>("h"));
        Assert.Equal(f, file.Read<float>("f"));
        Assert.Equal(i32, file.Read<int>("i32"));
        Assert.Equal(u8, file.Read<byte>("u8"));
        Assert.Equal(f64, file.Read<double>("f64"));
        Assert.Equal(i64, file.Read<long>("i64"));
        Assert.Equal(i8, file.Read<sbyte>("i8"));
        Assert.Equal(i16, file.Read<short>("i16"));
        Assert.Equal(flags, file.Read<bool>("flags"));
        Assert.Empty(file.Read<float>("empty"));
        Assert.Equal(0, file.GetInfo("empty").ElementCount);
        Assert.Equal([4L, 0, 3], file.GetInfo("empty").Shape);
        Assert.Equal([42], file.Read<int>("scalar"));
        Assert.Equal(1, file.GetInfo("scalar").ElementCount);

        SafeTensorInfo hi = file.GetInfo("h");
        Assert.Equal(SafeTensorDType.F16, hi.DType);
        Assert.Equal([2L, 3], hi.Shape);
        Assert.Equal(12, hi.ByteLength);
        Assert.Equal(6, hi.ElementCount);
        Assert.True(file.GetBytes("u8").SequenceEqual(u8), $"seed {seed}");
        Assert.True(file.Contains("f"));
        Assert.False(file.Contains("nope"));

        // The header is padded to 8 bytes, as other writers do.
        byte[] raw = File.ReadAllBytes(path);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(raw) % 8);
    }

    [Fact]
    public void MissingTensorNamesFileAndTensor()
    {
        string path = PathFor("one.safetensors");
        SafeTensorsWriter.Write(path, [SafeTensorsWriter.Entry("a", [1], new[] { 1f })]);
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        var ex = Assert.Throws<KeyNotFoundException>(() => file.GetInfo("missing_tensor"));
        Assert.Contains("missing_tensor", ex.Message, StringComparison.Ordinal);
        Assert.Contains(file.Path, ex.Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => file.Read<float>("missing_tensor"));
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void ReadWithWrongTypeIsRejected()
    {
        string path = PathFor("types.safetensors");
        SafeTensorsWriter.Write(path, [SafeTensorsWriter.Entry("h", [2], new[] { Half.One, Half.Zero })]);
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        var ex = Assert.Throws<InvalidOperationException>(() => file.Read<float>("h"));
        Assert.Contains("F16", ex.Message, StringComparison.Ordinal);
        Assert.Contains("F32", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => file.Read<short>("h"));
        Assert.Throws<InvalidOperationException>(() => file.Read<char>("h"));
        Assert.Equal([1f, 0f], file.ReadAsSingle("h"));
    }

    [Fact]
    public void BFloat16IsReadAsSingleAndAsRawBits()
    {
        string path = PathFor("bf16.safetensors");
        float[] values = [1f, -2.5f, 3.140625f, 0f];
        ushort[] bits = values.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray();
        SafeTensorsWriter.Write(path, [("w", SafeTensorDType.BF16, [2, 2], MemoryMarshal.AsBytes(bits.AsSpan()).ToArray())]);
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(values, file.ReadBFloat16AsSingle("w"));
        Assert.Equal(values, file.ReadAsSingle("w"));
        Assert.Equal(bits, file.Read<ushort>("w"));
        Assert.Throws<InvalidOperationException>(() => file.Read<Half>("w"));
    }

    [Fact]
    public void EmptyHeaderObjectIsAValidFileWithNoTensors()
    {
        string path = PathFor("empty.safetensors");
        SafeTensorsWriter.Write(path, []);
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void WriterRejectsBadEntries()
    {
        string path = PathFor("bad.safetensors");
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [("a", SafeTensorDType.F32, [2], new byte[4])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [("a", SafeTensorDType.U8, [1], new byte[1]), ("a", SafeTensorDType.U8, [1], new byte[1])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [("__metadata__", SafeTensorDType.U8, [1], new byte[1])]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [("a", SafeTensorDType.U8, [-1], new byte[1])]));
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(_dir));
    }

    // ------------------------------------------------------------------ hostile files

    private static byte[] Build(string headerJson, int dataLength = 16, ulong? lengthOverride = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, lengthOverride ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    private static readonly Dictionary<string, (Func<byte[]> Bytes, string Fragment)> Hostile = new()
    {
        ["zero-length file"] = (() => [], "shorter than"),
        ["truncated length field"] = (() => [1, 0, 0, 0, 0], "shorter than"),
        ["header length beyond file"] = (() => Build("{}", 0, 1000), "past the end"),
        ["header length 2^63"] = (() => Build("{}", 0, 1UL << 63), "header length"),
        ["header length above 100 MB"] = (() => Build("{}", 0, 100_000_001), "limit"),
        ["header length zero"] = (() => Build("{}", 0, 0), "header length is 0"),
        ["truncated JSON"] = (() => Build("{\"a\": {\"dtype\": \"F32\""), "JSON"),
        ["not JSON"] = (() => Build("hello world"), "JSON"),
        ["invalid UTF-8 in a metadata value"] = (() => { var b = Build("{\"__metadata__\":{\"k\":\"xx\"}}"); b[30] = 0xFF; return b; }, "UTF-8"),
        ["invalid UTF-8 in a tensor name"] = (() => { var b = Build("{\"ab\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}}"); b[11] = 0xC3; return b; }, "UTF-8"),
        ["root is an array"] = (() => Build("[1, 2]"), "JSON object"),
        ["tensor entry is a number"] = (() => Build("{\"a\": 5}"), "'a'"),
        ["unknown dtype"] = (() => Build("{\"a\": {\"dtype\": \"F128\", \"shape\": [1], \"data_offsets\": [0, 16]}}"), "a.dtype"),
        ["lower-case dtype"] = (() => Build("{\"a\": {\"dtype\": \"f32\", \"shape\": [1], \"data_offsets\": [0, 4]}}"), "a.dtype"),
        ["dtype missing"] = (() => Build("{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}"), "a.dtype"),
        ["shape missing"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}"), "a.shape"),
        ["shape not an array"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": 4, \"data_offsets\": [0, 16]}}"), "a.shape"),
        ["negative dim"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [-4], \"data_offsets\": [0, 16]}}"), "a.shape[0]"),
        ["fractional dim"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}"), "a.shape[0]"),
        ["string dim"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [\"4\"], \"data_offsets\": [0, 16]}}"), "a.shape[0]"),
        ["dim beyond int64"] = (() => Build("{\"a\": {\"dtype\": \"U8\", \"shape\": [99999999999999999999], \"data_offsets\": [0, 16]}}"), "a.shape[0]"),
        ["huge dims overflow element count"] = (() => Build("{\"a\": {\"dtype\": \"U8\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 16]}}"), "overflows"),
        ["huge dim overflows byte size"] = (() => Build("{\"a\": {\"dtype\": \"F64\", \"shape\": [2305843009213693952], \"data_offsets\": [0, 16]}}"), "overflows"),
        ["end beyond data"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [8], \"data_offsets\": [0, 32]}}"), "a.data_offsets"),
        ["begin after end"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}"), "a.data_offsets"),
        ["negative begin"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}"), "a.data_offsets"),
        ["three offsets"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}"), "a.data_offsets"),
        ["offsets missing"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}"), "a.data_offsets"),
        ["offset beyond int64"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 1e30]}}"), "a.data_offsets"),
        ["size mismatch with shape"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}"), "a.data_offsets"),
        ["overlapping tensors"] = (() => Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}"), "overlaps"),
        ["same range twice"] = (() => Build("{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]}, \"b\": {\"dtype\": \"I32\", \"shape\": [1], \"data_offsets\": [0, 4]}}"), "overlaps"),
        ["duplicate tensor name"] = (() => Build("{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]}, \"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [4, 8]}}"), "twice"),
        ["metadata value not a string"] = (() => Build("{\"__metadata__\": {\"k\": 256}}"), "__metadata__.k"),
        ["metadata not an object"] = (() => Build("{\"__metadata__\": [\"k\"]}"), "__metadata__"),
    };

    public static TheoryData<string> HostileCases() => new(Hostile.Keys);

    [Fact]
    public void ThereAreManyHostileCases() => Assert.True(Hostile.Count >= 20);

    [Theory]
    [MemberData(nameof(HostileCases))]
    public void HostileFileGivesFormatExceptionNamingFileAndField(string caseName)
    {
        var (bytes, fragment) = Hostile[caseName];
        string path = PathFor("hostile.safetensors");
        File.WriteAllBytes(path, bytes());
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Equal(Path.GetFullPath(path), ex.FilePath);
        Assert.Contains(Path.GetFullPath(path), ex.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);

        // The file is not left locked or mapped: it can be replaced.
        File.WriteAllBytes(path, []);
    }

    [Fact]
    public void ZeroSizedTensorAtTheEndOfAnEmptyDataSectionIsValid()
    {
        string path = PathFor("zero.safetensors");
        File.WriteAllBytes(path, Build("{\"a\": {\"dtype\": \"F32\", \"shape\": [0, 5], \"data_offsets\": [0, 0]}, \"__metadata__\": {\"x\": \"y\"}}", 0));
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(0, file.GetBytes("a").Length);
        Assert.Empty(file.Read<float>("a"));
        Assert.Equal("y", file.Metadata["x"]);
    }

    [Fact]
    public void GapsBetweenTensorsAndPaddingSpacesAreTolerated()
    {
        string path = PathFor("gap.safetensors");
        byte[] bytes = Build("{\"a\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [4, 6]}}      ", 8);
        bytes[^4] = 7;
        bytes[^3] = 9;
        File.WriteAllBytes(path, bytes);
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(new byte[] { 7, 9 }, file.Read<byte>("a"));
    }

    [Fact]
    public void MissingFileIsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(PathFor("does-not-exist.safetensors")));
    }
}
