using System.Globalization;
using MarlinSharp.Formats;
using MarlinSharp.IO;

namespace MarlinSharp.Tests.Formats;

/// <summary>
/// Byte-for-byte agreement with test vectors made by the reference packer (IST-DASLab/marlin Layer.pack).
/// The folder is taken from MARLIN_FORMAT_VECTORS, else data/marlin-format beside the test assembly.
/// </summary>
public class ReferenceVectorTests
{
    public static string VectorFolder =>
        Environment.GetEnvironmentVariable("MARLIN_FORMAT_VECTORS") is { Length: > 0 } dir
            ? dir
            : Path.Combine(AppContext.BaseDirectory, "data", "marlin-format");

    public static TheoryData<string> VectorFiles()
    {
        var data = new TheoryData<string>();
        if (Directory.Exists(VectorFolder))
        {
            foreach (string f in Directory.EnumerateFiles(VectorFolder, "*.safetensors").Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(f));
            }
        }

        return data;
    }

    [Fact]
    public void VectorFolderHoldsReferenceFiles()
    {
        Assert.True(Directory.Exists(VectorFolder), $"Reference vector folder '{VectorFolder}' does not exist.");
        string[] files = Directory.GetFiles(VectorFolder, "*.safetensors");
        Assert.True(files.Length > 0, $"Reference vector folder '{VectorFolder}' holds no *.safetensors files.");
    }

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void PackFromCodesMatchesReference(string file)
    {
        using var v = Vector.Load(file);
        MarlinPackedWeights packed = MarlinPacker.Pack(v.Q, v.S, v.Layout);
        FormatTestSupport.AssertSame<int>(v.BPacked, packed.B, "B", file);
        FormatTestSupport.AssertSame<ushort>(FormatTestSupport.Bits(v.SPacked), FormatTestSupport.Bits(packed.Scales), "packed scales", file);
    }

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void NaivePackerAgreesWithReference(string file)
    {
        // Guards the independent test-side packer used for the extension group sizes.
        using var v = Vector.Load(file);
        FormatTestSupport.AssertSame<int>(v.BPacked, FormatTestSupport.NaivePack(v.Q, v.Layout.InFeatures, v.Layout.OutFeatures), "naive B", file);
        FormatTestSupport.AssertSame<ushort>(
            FormatTestSupport.Bits(v.SPacked), FormatTestSupport.Bits(FormatTestSupport.NaivePackScales(v.S, v.Layout)), "naive packed scales", file);
    }

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void PackFromFakeQuantizedWeightsMatchesReference(string file)
    {
        using var v = Vector.Load(file);
        Half[] w = MarlinReference.Dequantize(v.Q, v.S, v.Layout);
        MarlinPackedWeights packed = MarlinPacker.PackFakeQuantized(w, v.S, v.Layout);
        FormatTestSupport.AssertSame<int>(v.BPacked, packed.B, "B from fake-quantized weights", file);
        FormatTestSupport.AssertSame<ushort>(FormatTestSupport.Bits(v.SPacked), FormatTestSupport.Bits(packed.Scales), "packed scales", file);
    }

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void UnpackReturnsReferenceCodesAndScales(string file)
    {
        using var v = Vector.Load(file);
        var (codes, scales) = MarlinPacker.Unpack(new MarlinPackedWeights(v.Layout, v.BPacked, v.SPacked));
        FormatTestSupport.AssertSame<byte>(v.Q, codes, "q", file);
        FormatTestSupport.AssertSame<ushort>(FormatTestSupport.Bits(v.S), FormatTestSupport.Bits(scales), "s", file);
    }

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void ReferenceMultiplyMatchesReferenceOutputs(string file)
    {
        using var v = Vector.Load(file);
        Half[] w = MarlinReference.Dequantize(v.Q, v.S, v.Layout);
        foreach (int m in new[] { 1, 16, 33 })
        {
            Half[] a = v.File.Read<Half>($"A_m{m}");
            float[] cRef = v.File.Read<float>($"C_ref_m{m}");
            Assert.Equal([m, v.Layout.InFeatures], v.File.GetInfo($"A_m{m}").Shape);
            Assert.Equal([m, v.Layout.OutFeatures], v.File.GetInfo($"C_ref_m{m}").Shape);
            double[] c = MarlinReference.Multiply(a, m, w, v.Layout.InFeatures, v.Layout.OutFeatures);
            Assert.Equal(cRef.Length, c.Length);
            for (int i = 0; i < c.Length; i++)
            {
                double tol = (1e-3 * Math.Abs(cRef[i])) + 1e-6;
                if (Math.Abs(c[i] - cRef[i]) > tol)
                {
                    Assert.Fail($"{file}: C_m{m}[{i / v.Layout.OutFeatures}][{i % v.Layout.OutFeatures}] = {c[i]}, reference {cRef[i]}.");
                }
            }
        }
    }

    private sealed class Vector : IDisposable
    {
        private Vector(SafeTensorsFile file, MarlinLayout layout)
        {
            File = file;
            Layout = layout;
            Q = file.Read<byte>("q");
            S = file.Read<Half>("s");
            BPacked = file.Read<int>("B_packed");
            SPacked = file.Read<Half>("s_packed");
            Assert.Equal([layout.InFeatures, layout.OutFeatures], file.GetInfo("q").Shape);
            Assert.Equal([layout.ScaleRows, layout.OutFeatures], file.GetInfo("s").Shape);
            Assert.Equal([layout.ScaleRows, layout.OutFeatures], file.GetInfo("s_packed").Shape);
            Assert.Equal([layout.PackedRows, layout.PackedColumns], file.GetInfo("B_packed").Shape);
        }

        public SafeTensorsFile File { get; }

        public MarlinLayout Layout { get; }

        public byte[] Q { get; }

        public Half[] S { get; }

        public int[] BPacked { get; }

        public Half[] SPacked { get; }

        public static Vector Load(string fileName)
        {
            SafeTensorsFile f = SafeTensorsFile.Open(Path.Combine(VectorFolder, fileName));
            try
            {
                int k = int.Parse(f.Metadata["k"], CultureInfo.InvariantCulture);
                int n = int.Parse(f.Metadata["n"], CultureInfo.InvariantCulture);
                int g = int.Parse(f.Metadata["groupsize"], CultureInfo.InvariantCulture);
                return new Vector(f, new MarlinLayout(k, n, g));
            }
            catch
            {
                f.Dispose();
                throw;
            }
        }

        public void Dispose() => File.Dispose();
    }
}
