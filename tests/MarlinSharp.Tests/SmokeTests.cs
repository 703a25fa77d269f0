namespace MarlinSharp.Tests;

public class SmokeTests
{
    [Fact]
    public void TestDataIsCopied() => Assert.True(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "data", "marlin-format")));

    [Fact]
    public void SkipsWithReason() => Assert.Skip("demo skip");
}
