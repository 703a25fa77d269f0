using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

/// <summary>The norm kernels hold a whole row in registers: the launch must give every thread at most its share.</summary>
public class NormLaunchTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(256)]
    [InlineData(896)]
    [InlineData(2048)]
    [InlineData(4096)]
    [InlineData(5120)]
    [InlineData(8192)]
    [InlineData(14336)]
    [InlineData(16384)]
    [InlineData(32768)]
    public void EveryVectorOfTheRowHasAThread(int hidden)
    {
        int threads = LlamaKernels.NormThreads(hidden);
        Assert.Equal(0, threads % 32);
        Assert.InRange(threads, 32, 1024);
        Assert.True(threads * LlamaKernels.NormVectorsPerThread * 8 >= hidden, $"{threads} threads cannot hold {hidden} values");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(4100)]
    [InlineData(32776)]
    public void UnsupportedHiddenSizesAreRejected(int hidden)
    {
        var e = Assert.Throws<NotSupportedException>(() => LlamaKernels.NormThreads(hidden));
        Assert.Contains("hidden_size", e.Message);
    }
}
