using MarlinSharp.Cuda;
using MarlinSharp.Kernels;

namespace MarlinSharp.Tests.Kernels;

/// <summary>
/// Every kernel configuration the library can launch compiles through NVRTC (11.8 on CI, no GPU needed) for the
/// architecture of each reference device profile (sm_90, sm_80, sm_89), and the assembler's resource report shows no
/// register spills.
/// </summary>
public partial class KernelCompileTests
{
    public static TheoryData<string, string> Configurations()
    {
        var data = new TheoryData<string, string>();
        foreach (var (arch, config) in TestDevices.SelectablePerArchitecture)
            data.Add(arch, TestDevices.Format(config));
        // Tuning-only variants, checked on the baseline architecture of each family.
        foreach (MarlinKernelConfig config in TestDevices.AllSelectable.Except(TestDevices.SelectablePerArchitecture.Select(x => x.Config)))
            data.Add("sm_90", TestDevices.Format(config));
        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void DenseKernelCompilesWithoutSpills(string architecture, string configuration)
    {
        NvrtcRequirement.Require();
        MarlinKernelConfig config = TestDevices.Parse(configuration);
        var options = config.CompileOptions().Append("--ptxas-options=-v").ToList();
        NvrtcOutput output = Nvrtc.Compile(KernelSources.Get(KernelSources.DenseMarlin), KernelSources.DenseMarlin, architecture, options);

        CompileReport.AssertCubinWithoutSpills(output, config.ToString(), architecture);
    }

    [Theory]
    [InlineData("sm_80")]
    [InlineData("sm_90")]
    public void RandomFillKernelCompiles(string architecture)
    {
        NvrtcRequirement.Require();
        NvrtcOutput output = Nvrtc.Compile(KernelSources.Get("fill_random.cu"), "fill_random.cu", architecture, ["-std=c++17", "--ptxas-options=-v"]);
        Assert.Contains("fill_uniform_f16", output.Log);
        Assert.DoesNotMatch(@"[1-9]\d* bytes spill", output.Log);
    }

    [Fact]
    public void CandidateListCoversRealShapesAndEveryMode()
    {
        foreach (var device in TestDevices.ReferenceProfiles)
        {
            var candidates = MarlinKernelSelector.Candidates(device).ToHashSet();
            foreach (int groupSize in new[] { -1, 32, 64, 128 })
                foreach (int n in new[] { 192, 320, 4096, 11008 - 11008 % 64, 18432, 57344 })
                    for (int rows = 1; rows <= 64; rows++)
                        Assert.Contains(MarlinKernelSelector.Select(rows, n, 73728, groupSize, device), candidates);
            Assert.Contains(candidates, c => c.SwapAb == 1);
            Assert.Contains(candidates, c => c.MBlocks == 4);
            if (device.MaxSharedMemoryPerBlockOptin >= 160 * 1024)
                Assert.Contains(candidates, c => c.SwapAb == 0 && c.CtasPerSm == 2);
        }
    }

    [Fact]
    public void EmbeddedSourcesOpenWithAnExplanatoryComment()
    {
        Assert.Contains(KernelSources.DenseMarlin, KernelSources.Names);
        foreach (string name in KernelSources.Names)
        {
            string source = KernelSources.Get(name);
            Assert.StartsWith("// " + name, source);
            Assert.DoesNotContain("#include", source);
        }
    }


}
