using System.Text.RegularExpressions;
using MarlinSharp.Cuda;

namespace MarlinSharp.Tests.Kernels;

/// <summary>Checks on an NVRTC compilation made with --ptxas-options=-v: an ELF cubin, a resource report, no spills.</summary>
internal static partial class CompileReport
{
    public static void AssertCubinWithoutSpills(NvrtcOutput output, string what, string architecture)
    {
        Assert.True(output.Cubin.Length > 4 && output.Cubin[0] == 0x7F && output.Cubin[1] == (byte)'E', "NVRTC returned no ELF cubin.");
        Match registers = UsedRegisters().Match(output.Log);
        Assert.True(registers.Success, $"No resource report in the NVRTC log:\n{output.Log}");
        Assert.InRange(int.Parse(registers.Groups[1].Value), 1, 255);
        var spills = SpillBytes().Matches(output.Log);
        Assert.True(spills.Count >= 2, $"The report lists no spill counts:\n{output.Log}");
        foreach (Match spill in spills)
            Assert.True(spill.Groups[1].Value == "0", $"{what} spills on {architecture}:\n{output.Log}");
    }

    /// <summary>Static shared memory of the (single) kernel in the assembler's report.</summary>
    public static int StaticSharedBytes(NvrtcOutput output)
    {
        Match smem = StaticShared().Match(output.Log);
        if (smem.Success) return int.Parse(smem.Groups[1].Value);
        // ptxas leaves the figure out of its resource line when a kernel has no static shared memory.
        Assert.True(UsedRegisters().IsMatch(output.Log), $"No resource report in the NVRTC log:\n{output.Log}");
        return 0;
    }

    [GeneratedRegex(@"(\d+) bytes smem")]
    private static partial Regex StaticShared();

    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex UsedRegisters();

    [GeneratedRegex(@"(\d+) bytes spill (?:stores|loads)")]
    private static partial Regex SpillBytes();
}
