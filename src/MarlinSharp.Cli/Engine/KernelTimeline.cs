using System.Globalization;
using MarlinSharp.Cuda;

namespace MarlinSharp.Cli.Engine;

/// <summary>
/// Development probe for <c>bench e2e --profile</c>: where MARLINSHARP_DEBUG_TIMELINE names a folder, the streamed Marlin
/// GEMMs and the decode attention kernels are compiled with the address of a device buffer (MARLIN_DEBUG_TIMELINE), and
/// thread 0 of each of their CTAs appends its %globaltimer stamps there: entry, wait for the previous grid returned, main
/// loop done (GEMMs), exit. One graph-replayed decode step per format and batch size is written as CSV, so that the
/// kernel boundaries of a step can be read off in nanoseconds inside its graph (no profiler runs on the GPU machine).
/// Must start before any of those kernels is compiled (it adds to MARLINSHARP_NVRTC_EXTRA) and outlive every launch of
/// them: their code holds the buffer's address.
/// </summary>
internal sealed class KernelTimeline : IDisposable
{
    public const string EnvironmentVariable = "MARLINSHARP_DEBUG_TIMELINE";
    private const int Records = 1 << 18;
    private const int RecordWords = 8, HeaderWords = 8;
    private readonly DeviceBuffer<ulong> _buffer;
    private readonly string _directory;

    private KernelTimeline(DeviceBuffer<ulong> buffer, string directory)
    {
        _buffer = buffer;
        _directory = directory;
    }

    /// <summary>The probe when MARLINSHARP_DEBUG_TIMELINE is set, else null.</summary>
    public static KernelTimeline? StartIfRequested(MarlinRuntime runtime)
    {
        string? directory = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(directory)) return null;
        Directory.CreateDirectory(directory);
        var buffer = runtime.Context.Allocate<ulong>(HeaderWords + (long)Records * RecordWords);
        buffer.FillBytes(0);
        string extra = Environment.GetEnvironmentVariable("MARLINSHARP_NVRTC_EXTRA") ?? "";
        Environment.SetEnvironmentVariable("MARLINSHARP_NVRTC_EXTRA",
            $"{extra} -DMARLIN_DEBUG_TIMELINE=0x{buffer.Pointer:x}ull -DMARLIN_DEBUG_TIMELINE_RECORDS={Records}".Trim());
        return new KernelTimeline(buffer, directory);
    }

    /// <summary>Forgets every record so far (synchronous).</summary>
    public void Reset() => _buffer.FillBytes(0);

    /// <summary>Writes the records since the last <see cref="Reset"/> to <paramref name="name"/>.csv, times in ns from the first entry.</summary>
    public string Write(string name)
    {
        _buffer.Context.Synchronize();
        var header = new ulong[1];
        _buffer.CopyTo(header);
        int count = (int)Math.Min(header[0] & 0xffffffff, Records);
        var words = new ulong[HeaderWords + (long)count * RecordWords];
        _buffer.CopyTo(words);
        ulong origin = ulong.MaxValue;
        for (int r = 0; r < count; r++) origin = Math.Min(origin, words[HeaderWords + r * RecordWords]);
        string path = Path.Combine(_directory, name + ".csv");
        using var w = new StreamWriter(path);
        w.WriteLine(CsvHeader);
        for (int r = 0; r < count; r++) w.WriteLine(CsvRow(words.AsSpan(HeaderWords + r * RecordWords, RecordWords), origin));
        return path;
    }

    public const string CsvHeader = "entry,waited,looped,exit,kind,epilogue,warps,grid_x,grid_y,grid_z,rows,block_x,block_y,block_z,sm,loops_done,cluster_synced,reduced";

    /// <summary>
    /// One record as a CSV row (<see cref="CsvHeader"/>), times in ns after <paramref name="origin"/> (empty where 0: not
    /// stamped). Words as the kernels write them: 0-3 stamps; 4 the tag, kind | ... (kind 1, marlin_stream.cu: epilogue
    /// &lt;&lt; 8 | warps &lt;&lt; 12 | grid.x &lt;&lt; 16 | grid.y &lt;&lt; 32 | rows &lt;&lt; 48; kinds 2 and 3, llama_attention.cu: grid.x &lt;&lt; 16 |
    /// grid.y &lt;&lt; 32 | grid.z &lt;&lt; 48); 5 where it ran, block.x | block.y &lt;&lt; 16 | SM &lt;&lt; 32 (| block.z &lt;&lt; 48 for attention);
    /// 6 (GEMMs; absent or 0 elsewhere) when the CTA's last warp finished its main loop ("looped" is warp 0's); 7 (GEMMs) in
    /// ns after entry, when the cluster barrier after the partials passed (low 32 bits) and when thread 0's share of the
    /// reduction was done (high 32 bits).
    /// </summary>
    public static string CsvRow(ReadOnlySpan<ulong> record, ulong origin)
    {
        if (record.Length < 6) throw new ArgumentException($"A record has at least 6 words; got {record.Length}.", nameof(record));
        ulong tag = record[4], where = record[5];
        uint kind = (uint)(tag & 0xff);
        bool gemm = kind == 1;
        string Rel(ulong t) => t == 0 ? "" : (t - origin).ToString(CultureInfo.InvariantCulture);
        return string.Join(',',
            Rel(record[0]), Rel(record[1]), Rel(record[2]), Rel(record[3]), kind,
            gemm ? (tag >> 8) & 0xf : 0, gemm ? (tag >> 12) & 0xf : 0,
            (tag >> 16) & 0xffff, (tag >> 32) & 0xffff, gemm ? 1 : (tag >> 48) & 0xffff, gemm ? (tag >> 48) & 0xffff : 0,
            where & 0xffff, (where >> 16) & 0xffff, gemm ? 0 : (where >> 48) & 0xffff, (where >> 32) & 0xffff,
            record.Length > 6 ? Rel(record[6]) : "", AfterEntry(record, 0, origin), AfterEntry(record, 32, origin));
    }

    /// <summary>Word 7's offset after entry at bit <paramref name="shift"/> as a time after <paramref name="origin"/>; empty where
    /// absent or 0.</summary>
    private static string AfterEntry(ReadOnlySpan<ulong> record, int shift, ulong origin)
    {
        if (record.Length < 8 || record[0] == 0) return "";
        ulong offset = (record[7] >> shift) & 0xffffffff;
        return offset == 0 ? "" : (record[0] + offset - origin).ToString(CultureInfo.InvariantCulture);
    }

    public void Dispose() => _buffer.Dispose();
}
