using MarlinSharp.Formats;

namespace MarlinSharp.Tests.Formats;

/// <summary>Shared helpers: seeded random inputs, first-mismatch comparisons, and a naive packer written from DESIGN.md §3.</summary>
internal static class FormatTestSupport
{
    public static byte[] RandomCodes(Random rng, int count)
    {
        var codes = new byte[count];
        for (int i = 0; i < count; i++)
        {
            codes[i] = (byte)rng.Next(16);
        }

        return codes;
    }

    /// <summary>Positive normal fp16 scales in [1e-3, 0.1).</summary>
    public static Half[] RandomScales(Random rng, int count)
    {
        var s = new Half[count];
        for (int i = 0; i < count; i++)
        {
            s[i] = (Half)(0.001 + (0.099 * rng.NextDouble()));
        }

        return s;
    }

    /// <summary>Approximately normal fp16 values (sum of uniforms), scaled.</summary>
    public static Half[] RandomWeights(Random rng, int count, double scale = 1.0)
    {
        var w = new Half[count];
        for (int i = 0; i < count; i++)
        {
            double v = rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5;
            w[i] = (Half)(v * 2 * scale);
        }

        return w;
    }

    public static void AssertSame<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what, string context)
        where T : IEquatable<T>
    {
        if (expected.Length != actual.Length)
        {
            Assert.Fail($"{what}: length {actual.Length}, expected {expected.Length} ({context}).");
        }

        for (int i = 0; i < expected.Length; i++)
        {
            if (!expected[i].Equals(actual[i]))
            {
                Assert.Fail($"{what}: first mismatch at flat index {i}: got {actual[i]}, expected {expected[i]} ({context}).");
            }
        }
    }

    /// <summary>Scale bit patterns, so that Half comparisons are bit exact.</summary>
    public static ushort[] Bits(ReadOnlySpan<Half> values)
    {
        var bits = new ushort[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            bits[i] = BitConverter.HalfToUInt16Bits(values[i]);
        }

        return bits;
    }

    /// <summary>The 1024-entry permutation, written independently from the description in DESIGN.md §3.</summary>
    public static int[] NaivePermutation()
    {
        var perm = new List<int>();
        for (int t = 0; t < 32; t++)
        {
            int col = t / 4;
            var l = new List<int>();
            foreach (int block in new[] { 0, 1 })
            {
                foreach (int row in new[] { 2 * (t % 4), (2 * (t % 4)) + 1, 2 * ((t % 4) + 4), (2 * ((t % 4) + 4)) + 1 })
                {
                    l.Add((16 * row) + col + (8 * block));
                }
            }

            for (int j = 0; j < 4; j++)
            {
                perm.AddRange(l.Select(x => x + (256 * j)));
            }
        }

        int[] interleave = [0, 2, 4, 6, 1, 3, 5, 7];
        return perm.Chunk(8).SelectMany(run => interleave.Select(i => run[i])).ToArray();
    }

    /// <summary>Slow, literal packer: tile, permute, then pack nibbles.</summary>
    public static int[] NaivePack(byte[] q, int k, int n)
    {
        int[] perm = NaivePermutation();
        var result = new int[k / 16 * 2 * n];
        for (int kb = 0; kb < k / 16; kb++)
        {
            var t = new byte[16 * n];
            for (int nb = 0; nb < n / 16; nb++)
            {
                for (int r = 0; r < 16; r++)
                {
                    for (int c = 0; c < 16; c++)
                    {
                        t[(nb * 256) + (r * 16) + c] = q[(((16 * kb) + r) * n) + (16 * nb) + c];
                    }
                }
            }

            var outRow = new byte[16 * n];
            for (int chunk = 0; chunk < t.Length; chunk += 1024)
            {
                for (int i = 0; i < 1024; i++)
                {
                    outRow[chunk + i] = t[chunk + perm[i]];
                }
            }

            for (int w = 0; w < 2 * n; w++)
            {
                uint word = 0;
                for (int i = 0; i < 8; i++)
                {
                    word |= (uint)outRow[(8 * w) + i] << (4 * i);
                }

                result[(kb * 2 * n) + w] = (int)word;
            }
        }

        return result;
    }

    /// <summary>Literal scale permutation from DESIGN.md §3.</summary>
    public static Half[] NaivePackScales(Half[] s, MarlinLayout layout)
    {
        int[] perm = layout.IsPerChannel
            ? Enumerable.Range(0, 4).SelectMany(i => new[] { 0, 1, 8, 9, 16, 17, 24, 25 }.Select(j => (2 * i) + j)).ToArray()
            : Enumerable.Range(0, 8).SelectMany(i => Enumerable.Range(0, 8).Select(j => i + (8 * j))).ToArray();
        return s.Chunk(perm.Length).SelectMany(c => perm.Select(p => c[p])).ToArray();
    }
}
