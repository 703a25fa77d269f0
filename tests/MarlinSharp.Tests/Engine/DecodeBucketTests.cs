using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

public sealed class DecodeBucketTests
{
    [Theory]
    [InlineData(1, 64, 1)]
    [InlineData(2, 64, 2)]
    [InlineData(3, 64, 4)]
    [InlineData(5, 64, 8)]
    [InlineData(8, 64, 8)]
    [InlineData(9, 64, 16)]
    [InlineData(17, 64, 24)]
    [InlineData(63, 64, 64)]
    [InlineData(64, 64, 64)]
    [InlineData(5, 6, 6)]
    [InlineData(3, 3, 3)]
    [InlineData(17, 20, 20)]
    public void BucketIsTheSmallestAllowedSizeThatFits(int sequences, int limit, int expected) =>
        Assert.Equal(expected, DecodeBuckets.For(sequences, limit));

    [Fact]
    public void AllListsEveryBucketUpToTheLimit()
    {
        Assert.Equal([1], DecodeBuckets.All(1));
        Assert.Equal([1, 2, 4, 8, 16, 20], DecodeBuckets.All(20));
        Assert.Equal([1, 2, 4, 8, 16, 24, 32], DecodeBuckets.All(32));
        for (int limit = 1; limit <= 100; limit++)
            for (int n = 1; n <= limit; n++)
                Assert.Contains(DecodeBuckets.For(n, limit), DecodeBuckets.All(limit));
    }

    [Fact]
    public void OutOfRangeCountsThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DecodeBuckets.For(0, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => DecodeBuckets.For(9, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => DecodeBuckets.For(1, 0));
    }
}
