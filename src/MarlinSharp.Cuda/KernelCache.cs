using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace MarlinSharp.Cuda;

/// <summary>
/// A content-addressed on-disk cache of NVRTC CUBINs plus an in-process memo. Safe to use from many threads
/// and from several processes sharing one folder: files are written to a unique temporary name and then
/// moved into place, and files that do not look like a complete ELF image are recompiled.
/// </summary>
public sealed class KernelCache
{
    /// <summary>Environment variable that overrides <see cref="DefaultDirectory"/>.</summary>
    public const string DirectoryEnvironmentVariable = "MARLINSHARP_CACHE_DIR";

    private const string KeyFormat = "marlinsharp-kernel-cache-v1";

    private readonly ConcurrentDictionary<string, Lazy<(byte[] Cubin, bool FromDisk)>> _memo = new(StringComparer.Ordinal);

    /// <param name="directory">Cache folder; null uses <see cref="DefaultDirectory"/>. Created on first write.</param>
    public KernelCache(string? directory = null)
    {
        if (directory is not null && directory.Length == 0)
            throw new ArgumentException("The cache directory must not be empty; pass null for the default.", nameof(directory));
        Directory = Path.GetFullPath(directory ?? DefaultDirectory);
    }

    /// <summary>The absolute cache folder.</summary>
    public string Directory { get; }

    /// <summary>
    /// Extra NVRTC options for kernel development only (e.g. "-lineinfo", or "-DMARLIN_DEBUG_SKIP_COMPUTE=1" and
    /// "-DLLAMA_DEBUG_ATTN=1" timing switches), read from MARLINSHARP_NVRTC_EXTRA whenever a kernel is loaded (so that a
    /// development probe may add to it before its kernels are compiled). Every kernel library appends them; like every
    /// other option they are part of the cache key.
    /// </summary>
    public static IReadOnlyList<string> DevelopmentOptions =>
        (Environment.GetEnvironmentVariable("MARLINSHARP_NVRTC_EXTRA") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// $MARLINSHARP_CACHE_DIR if set, else $XDG_CACHE_HOME/marlinsharp/kernels, else ~/.cache/marlinsharp/kernels.
    /// </summary>
    public static string DefaultDirectory
    {
        get
        {
            string? explicitDir = Environment.GetEnvironmentVariable(DirectoryEnvironmentVariable);
            if (!string.IsNullOrEmpty(explicitDir)) return explicitDir;
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (!string.IsNullOrEmpty(xdg)) return Path.Combine(xdg, "marlinsharp", "kernels");
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".cache", "marlinsharp", "kernels");
        }
    }

    /// <summary>
    /// Returns the CUBIN for the inputs, from memory, from disk, or by compiling with <see cref="Nvrtc.Compile"/>.
    /// <paramref name="fromCache"/> is false only when this call compiled it. The returned array is a private copy.
    /// </summary>
    public byte[] GetOrCompile(string source, string sourceName, string architecture, IReadOnlyList<string> options, out bool fromCache)
    {
        Nvrtc.ValidateCompileArguments(source, sourceName, architecture, options);
        string key = ComputeKey(source, architecture, options, Nvrtc.Version);
        var optionsCopy = options.ToArray();

        var created = new Lazy<(byte[], bool)>(() => LoadOrCompile(key, source, sourceName, architecture, optionsCopy),
            LazyThreadSafetyMode.ExecutionAndPublication);
        var entry = _memo.GetOrAdd(key, created);
        (byte[] Cubin, bool FromDisk) result;
        try
        {
            result = entry.Value;
        }
        catch
        {
            _memo.TryRemove(new KeyValuePair<string, Lazy<(byte[] Cubin, bool FromDisk)>>(key, entry));
            throw;
        }
        fromCache = !ReferenceEquals(entry, created) || result.FromDisk;
        return (byte[])result.Cubin.Clone();
    }

    /// <summary>The cache file that holds the CUBIN for these inputs (it may not exist yet).</summary>
    public string GetCacheFilePath(string source, string architecture, IReadOnlyList<string> options)
    {
        Nvrtc.ValidateCompileArguments(source, "key", architecture, options);
        return FilePath(ComputeKey(source, architecture, options, Nvrtc.Version));
    }

    /// <summary>Forgets the in-process memo and deletes every cache file (and stray temporary file) in <see cref="Directory"/>.</summary>
    public void Clear()
    {
        _memo.Clear();
        if (!System.IO.Directory.Exists(Directory)) return;
        foreach (var pattern in new[] { "*.cubin", "*.tmp" })
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, pattern))
            {
                try { File.Delete(file); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }
    }

    /// <summary>SHA-256 (hex) over a length-prefixed encoding of source, options in order, architecture and NVRTC version.</summary>
    internal static string ComputeKey(string source, string architecture, IReadOnlyList<string> options, Version nvrtcVersion)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string field)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(field);
            Span<byte> length = stackalloc byte[8];
            BitConverter.TryWriteBytes(length, (long)bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        Add(KeyFormat);
        Add(source);
        Add(options.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var option in options) Add(option);
        Add(architecture);
        Add(nvrtcVersion.ToString());
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private string FilePath(string key) => Path.Combine(Directory, key + ".cubin");

    private (byte[], bool) LoadOrCompile(string key, string source, string sourceName, string architecture, string[] options)
    {
        string path = FilePath(key);
        byte[]? existing = TryRead(path);
        if (existing is not null && CubinImage.IsPlausible(existing))
            return (existing, true);

        byte[] cubin = Nvrtc.Compile(source, sourceName, architecture, options).Cubin;
        TryWrite(path, cubin);
        return (cubin, false);
    }

    private static byte[]? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Best effort: a cache that cannot be written only costs a recompile next time.</summary>
    private void TryWrite(string path, byte[] cubin)
    {
        string temp = Path.Combine(Directory, $"{Path.GetFileNameWithoutExtension(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(cubin);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
