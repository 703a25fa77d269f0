using MarlinSharp.Cuda;

namespace MarlinSharp.Tests.Cuda;

public sealed class KernelCacheTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "marlinsharp-kc-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static string UniqueSource(string tag) => TestKernels.AddSource + $"\n// test {tag} {Guid.NewGuid():N}\n";

    [Fact]
    public void KeyChangesWithSourceOptionsArchitectureAndVersion()
    {
        var v = new Version(12, 4);
        string baseline = KernelCache.ComputeKey("src", "sm_80", ["-DA=1", "-DB=2"], v);

        Assert.Matches("^[0-9a-f]{64}$", baseline);
        Assert.Equal(baseline, KernelCache.ComputeKey("src", "sm_80", ["-DA=1", "-DB=2"], new Version(12, 4)));
        Assert.NotEqual(baseline, KernelCache.ComputeKey("src ", "sm_80", ["-DA=1", "-DB=2"], v));
        Assert.NotEqual(baseline, KernelCache.ComputeKey("src", "sm_90", ["-DA=1", "-DB=2"], v));
        Assert.NotEqual(baseline, KernelCache.ComputeKey("src", "sm_80", ["-DB=2", "-DA=1"], v)); // order matters
        Assert.NotEqual(baseline, KernelCache.ComputeKey("src", "sm_80", ["-DA=1"], v));
        Assert.NotEqual(baseline, KernelCache.ComputeKey("src", "sm_80", ["-DA=1", "-DB=2"], new Version(12, 5)));
        // Field boundaries are unambiguous.
        Assert.NotEqual(KernelCache.ComputeKey("src", "sm_80", ["ab"], v), KernelCache.ComputeKey("src", "sm_80", ["a", "b"], v));
    }

    [Fact]
    public void SecondCallHitsCacheWithIdenticalBytes()
    {
        NvrtcRequirement.Require();
        var cache = new KernelCache(_dir);
        string src = UniqueSource("hit");

        byte[] first = cache.GetOrCompile(src, "add.cu", "sm_80", [], out bool firstFromCache);
        byte[] second = cache.GetOrCompile(src, "add.cu", "sm_80", [], out bool secondFromCache);

        Assert.False(firstFromCache);
        Assert.True(secondFromCache);
        Assert.Equal(first, second);
        Assert.True(CubinImage.IsPlausible(first));

        string path = cache.GetCacheFilePath(src, "sm_80", []);
        Assert.Equal(Path.Combine(_dir, Path.GetFileName(path)), path);
        Assert.EndsWith(".cubin", path);
        Assert.Equal(first, File.ReadAllBytes(path));

        // A fresh instance (new process, in effect) reads the file instead of compiling.
        byte[] third = new KernelCache(_dir).GetOrCompile(src, "add.cu", "sm_80", [], out bool thirdFromCache);
        Assert.True(thirdFromCache);
        Assert.Equal(first, third);

        // Returned arrays are copies: mutating one does not poison the memo.
        second[0] = 0;
        Assert.Equal(first, cache.GetOrCompile(src, "add.cu", "sm_80", [], out _));
    }

    [Fact]
    public void DifferentInputsUseDifferentFiles()
    {
        NvrtcRequirement.Require();
        var cache = new KernelCache(_dir);
        string src = UniqueSource("files");
        cache.GetOrCompile(src, "add.cu", "sm_80", [], out _);
        cache.GetOrCompile(src, "add.cu", "sm_90", [], out bool archFromCache);
        cache.GetOrCompile(src, "add.cu", "sm_80", ["-DX=1"], out bool optFromCache);

        Assert.False(archFromCache);
        Assert.False(optFromCache);
        Assert.Equal(3, Directory.GetFiles(_dir, "*.cubin").Length);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    public static TheoryData<string> Corruptions => ["empty", "badmagic", "truncated"];

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void CorruptCacheFileIsRecompiled(string corruption)
    {
        NvrtcRequirement.Require();
        string src = UniqueSource("corrupt-" + corruption);
        byte[] good = new KernelCache(_dir).GetOrCompile(src, "add.cu", "sm_80", [], out _);
        string path = new KernelCache(_dir).GetCacheFilePath(src, "sm_80", []);

        byte[] bad = corruption switch
        {
            "empty" => [],
            "badmagic" => [.. "JUNK"u8, .. good.AsSpan(4)],
            _ => good[..(good.Length / 2)],
        };
        File.WriteAllBytes(path, bad);

        byte[] again = new KernelCache(_dir).GetOrCompile(src, "add.cu", "sm_80", [], out bool fromCache);

        Assert.False(fromCache);
        Assert.Equal(good, again);
        Assert.Equal(good, File.ReadAllBytes(path)); // the bad file was replaced
    }

    [Fact]
    public void ConcurrentCallsFromThreadsAndTwoInstancesAgree()
    {
        NvrtcRequirement.Require();
        string src = UniqueSource("concurrent");
        var cacheA = new KernelCache(_dir);
        var cacheB = new KernelCache(_dir);
        const int threads = 6;
        var results = new byte[threads][];
        var compiledFlags = new bool[threads];
        using var start = new Barrier(threads);

        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            var cache = i % 2 == 0 ? cacheA : cacheB;
            start.SignalAndWait();
            results[i] = cache.GetOrCompile(src, "add.cu", "sm_80", ["--std=c++17"], out bool fromCache);
            compiledFlags[i] = !fromCache;
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());

        Assert.All(results, r => Assert.Equal(results[0], r));
        Assert.True(CubinImage.IsPlausible(results[0]));
        // Each instance compiles at most once; the memo serves the other threads.
        Assert.InRange(compiledFlags.Count(c => c), 1, 2);

        var files = Directory.GetFiles(_dir);
        Assert.Single(files);
        Assert.EndsWith(".cubin", files[0]);
        Assert.Equal(results[0], File.ReadAllBytes(files[0]));
    }

    [Fact]
    public void ClearRemovesFilesAndMemo()
    {
        NvrtcRequirement.Require();
        var cache = new KernelCache(_dir);
        string src = UniqueSource("clear");
        cache.GetOrCompile(src, "add.cu", "sm_80", [], out _);
        File.WriteAllBytes(Path.Combine(_dir, "stale.tmp"), [1, 2, 3]);
        File.WriteAllText(Path.Combine(_dir, "keep.txt"), "not ours");

        cache.Clear();

        Assert.Empty(Directory.GetFiles(_dir, "*.cubin"));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        Assert.True(File.Exists(Path.Combine(_dir, "keep.txt")));
        cache.GetOrCompile(src, "add.cu", "sm_80", [], out bool fromCache);
        Assert.False(fromCache);
    }

    [Fact]
    public void CompilationErrorsPropagateAndAreNotCached()
    {
        NvrtcRequirement.Require();
        var cache = new KernelCache(_dir);
        Assert.Throws<NvrtcCompilationException>(() => cache.GetOrCompile(TestKernels.SyntaxErrorSource, "broken.cu", "sm_80", [], out _));
        Assert.Throws<NvrtcCompilationException>(() => cache.GetOrCompile(TestKernels.SyntaxErrorSource, "broken.cu", "sm_80", [], out _));
        Assert.False(Directory.Exists(_dir) && Directory.GetFiles(_dir).Length > 0);
    }

    [Fact]
    public void ValidatesArguments()
    {
        Assert.Throws<ArgumentException>(() => new KernelCache(""));
        var cache = new KernelCache(_dir);
        Assert.Equal(Path.GetFullPath(_dir), cache.Directory);
        Assert.Equal("architecture", Assert.Throws<ArgumentException>(() => cache.GetOrCompile("x", "a.cu", "compute_80", [], out _)).ParamName);
        Assert.False(Directory.Exists(_dir)); // nothing created for a rejected call
    }
}

/// <summary>Touches process environment variables, so it must not run in parallel with other cache tests that use defaults.</summary>
[Collection(nameof(EnvironmentCollection))]
public class KernelCacheDefaultDirectoryTests
{
    [Fact]
    public void EnvironmentOverridesAndXdgFallback()
    {
        string? savedDir = Environment.GetEnvironmentVariable(KernelCache.DirectoryEnvironmentVariable);
        string? savedXdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string custom = Path.Combine(Path.GetTempPath(), "marlinsharp-env-" + Guid.NewGuid().ToString("N"));
        string xdg = Path.Combine(Path.GetTempPath(), "marlinsharp-xdg-" + Guid.NewGuid().ToString("N"));
        try
        {
            Environment.SetEnvironmentVariable(KernelCache.DirectoryEnvironmentVariable, custom);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", xdg);
            Assert.Equal(custom, KernelCache.DefaultDirectory);
            Assert.Equal(Path.GetFullPath(custom), new KernelCache().Directory);

            Environment.SetEnvironmentVariable(KernelCache.DirectoryEnvironmentVariable, null);
            Assert.Equal(Path.Combine(xdg, "marlinsharp", "kernels"), KernelCache.DefaultDirectory);

            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", null);
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            Assert.Equal(Path.Combine(home, ".cache", "marlinsharp", "kernels"), KernelCache.DefaultDirectory);
        }
        finally
        {
            Environment.SetEnvironmentVariable(KernelCache.DirectoryEnvironmentVariable, savedDir);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", savedXdg);
        }
    }
}

[CollectionDefinition(nameof(EnvironmentCollection), DisableParallelization = true)]
public class EnvironmentCollection;
