using MarlinSharp.Kernels;

namespace MarlinSharp.Tests.Kernels;

/// <summary>The host mirror of the kernel's work partition: every tile owned exactly once, bounded partial slots.</summary>
public class StripePlanTests
{
    public static TheoryData<int, int, int, int, int> Problems() => new()
    {
        { 18432, 73728, 128, 128, 132 },   // peak shape, small batch tiles
        { 18432, 73728, 256, 64, 132 },
        { 4096, 4096, 128, 128, 132 },
        { 4096, 11008 - 11008 % 128, 256, 64, 108 },
        { 64, 128, 64, 128, 132 },         // fewer tiles than SMs
        { 192, 384, 64, 128, 7 },
        { 320, 2048, 64, 128, 132 },
        { 57344, 8192, 256, 128, 132 },
        { 256, 256, 128, 64, 1 },
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public void StripesCoverEveryTileExactlyOnceAndInOrder(int n, int k, int tileN, int tileK, int sms)
    {
        var plan = new StripePlan(n, k, tileN, tileK, sms);
        Assert.Equal(n / tileN * (k / tileK), plan.TotalTiles);
        Assert.Equal(Math.Min(sms, plan.TotalTiles), plan.Ctas);
        Assert.Equal(0, plan.FirstTile(0));
        Assert.Equal(plan.TotalTiles, plan.FirstTile(plan.Ctas));
        for (int cta = 0; cta < plan.Ctas; cta++)
        {
            int first = plan.FirstTile(cta), end = plan.FirstTile(cta + 1);
            Assert.True(end > first, $"CTA {cta} has an empty stripe [{first}, {end}).");
            Assert.Equal(cta, plan.OwnerOf(first));
            Assert.Equal(cta, plan.OwnerOf(end - 1));
        }
    }

    [Theory]
    [MemberData(nameof(Problems))]
    public void EachCtaNeedsAtMostTwoPartialSlotsAndContributorCountsAddUp(int n, int k, int tileN, int tileK, int sms)
    {
        var plan = new StripePlan(n, k, tileN, tileK, sms);
        long contributions = 0;
        for (int column = 0; column < plan.ColumnTiles; column++)
        {
            int contributors = plan.ContributorsOf(column);
            Assert.InRange(contributors, 1, plan.Ctas);
            contributions += contributors;
        }
        // Count (CTA, column) pairs directly, and the split columns of each CTA.
        long pairs = 0;
        for (int cta = 0; cta < plan.Ctas; cta++)
        {
            int first = plan.FirstTile(cta), last = plan.FirstTile(cta + 1) - 1;
            int firstColumn = first / plan.KTiles, lastColumn = last / plan.KTiles;
            pairs += lastColumn - firstColumn + 1;
            int partial = 0;
            for (int column = firstColumn; column <= lastColumn; column++)
            {
                int from = Math.Max(first, column * plan.KTiles), to = Math.Min(last, (column + 1) * plan.KTiles - 1);
                bool whole = from == column * plan.KTiles && to == (column + 1) * plan.KTiles - 1;
                if (!whole)
                {
                    partial++;
                    Assert.True(column == firstColumn || column == lastColumn, "Only the first and last column of a stripe can be split.");
                }
            }
            Assert.InRange(partial, 0, 2);
        }
        Assert.Equal(pairs, contributions);
    }

    [Theory]
    [InlineData(4096, 4096, 64, 132)]
    [InlineData(4096, 11008 - 11008 % 128, 128, 264)]
    [InlineData(12288, 4096, 64, 264)]
    public void WholeColumnLaunchesNeverSplitAColumn(int n, int k, int tileN, int sms)
    {
        var config = new MarlinKernelConfig(1, tileN, 128, 4, 8, CtasPerSm: sms > 132 ? 2 : 1, SwapAb: 2, WholeColumns: true);
        var plan = new StripePlan(n, k, tileN, 128, config.MaxCtas(132, n));
        Assert.Equal(Math.Min(n / tileN, 132 * config.CtasPerSm), plan.Ctas);
        for (int column = 0; column < plan.ColumnTiles; column++)
            Assert.Equal(1, plan.ContributorsOf(column));
    }

    [Fact]
    public void WorkspaceHoldsTwoSlotsPerCta()
    {
        var plan = new StripePlan(18432, 73728, 128, 128, 132);
        var config = new MarlinKernelConfig(1, 128, 128, 4, 8);
        Assert.Equal(2L * 132 * 16 * 128 * 4, plan.WorkspaceBytes(config));
    }

    [Fact]
    public void RejectsProblemsBeyondTheKernelsThirtyTwoBitArithmetic()
    {
        var e = Assert.Throws<ArgumentException>(() => new StripePlan(1 << 30, 1 << 30, 64, 64, 132));
        Assert.Equal("n", e.ParamName);
        Assert.Contains("32-bit", e.Message);
    }

    [Theory]
    [InlineData(100, 128, "n")]
    [InlineData(128, 100, "k")]
    [InlineData(0, 128, "n")]
    [InlineData(128, -128, "k")]
    public void RejectsShapesThatAreNotWholeTiles(int n, int k, string parameter) =>
        Assert.Equal(parameter, Assert.Throws<ArgumentException>(() => new StripePlan(n, k, 64, 64, 132)).ParamName);

    [Fact]
    public void RejectsZeroCtas() =>
        Assert.Equal("maxCtas", Assert.Throws<ArgumentOutOfRangeException>(() => new StripePlan(128, 128, 64, 64, 0)).ParamName);
}
