using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

/// <summary>Aggregation of a step's event-to-event intervals into per-operation figures (no GPU).</summary>
public sealed class StepProfileTests
{
    [Fact]
    public void SumsPerLabelInFirstSeenOrderAndCountsLaunches()
    {
        var p = StepProfile.Aggregate(
        [
            (StepOps.Embed, 0.5), (StepOps.Norm, 0.25), (StepOps.QkvGemm, 2.0), (StepOps.Attention, 1.0),
            (StepOps.Norm, 0.25), (StepOps.QkvGemm, 3.0), (StepOps.Attention, 1.5), (StepOps.LmHead, 4.0),
        ], totalMs: 12.75);
        Assert.Equal(
        [
            new StepProfileEntry(StepOps.Embed, 0.5, 1), new StepProfileEntry(StepOps.Norm, 0.5, 2),
            new StepProfileEntry(StepOps.QkvGemm, 5.0, 2), new StepProfileEntry(StepOps.Attention, 2.5, 2),
            new StepProfileEntry(StepOps.LmHead, 4.0, 1),
        ], p.Entries);
        Assert.Equal(12.75, p.TotalMs);
        Assert.Equal(12.5, p.SumMs);
        Assert.Equal(8, p.Launches);
    }

    [Fact]
    public void TotalDefaultsToTheSumOfTheIntervals()
    {
        var p = StepProfile.Aggregate([("a", 1.0), ("b", 0.0), ("a", 2.0)]);
        Assert.Equal(3.0, p.TotalMs);
        Assert.Equal(["a", "b"], p.Entries.Select(e => e.Label));
        Assert.Equal([2, 1], p.Entries.Select(e => e.Launches));

        var empty = StepProfile.Aggregate([]);
        Assert.Empty(empty.Entries);
        Assert.Equal(0, empty.TotalMs);
    }

    [Fact]
    public void LabelsAreCaseSensitive()
    {
        var p = StepProfile.Aggregate([("Norm", 1.0), ("norm", 1.0)]);
        Assert.Equal(2, p.Entries.Count);
    }

    [Fact]
    public void RejectsMissingLabelsAndBadTimes()
    {
        Assert.Throws<ArgumentNullException>(() => StepProfile.Aggregate(null!));
        Assert.Contains("no label", Assert.Throws<ArgumentException>(() => StepProfile.Aggregate([("", 1.0)])).Message);
        Assert.Contains("'x'", Assert.Throws<ArgumentException>(() => StepProfile.Aggregate([("x", -0.1)])).Message);
        Assert.Throws<ArgumentException>(() => StepProfile.Aggregate([("x", double.NaN)]));
        Assert.Throws<ArgumentException>(() => StepProfile.Aggregate([("x", double.PositiveInfinity)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => StepProfile.Aggregate([("x", 1.0)], totalMs: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StepProfile.Aggregate([("x", 1.0)], totalMs: double.NaN));
    }
}
