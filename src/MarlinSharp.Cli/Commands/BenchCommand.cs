using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MarlinSharp.Cli.Benchmarks;
using MarlinSharp.Cuda;
using MarlinSharp.Kernels;

namespace MarlinSharp.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create() => new("bench", "Benchmarks against cuBLAS FP16 in the same run.") { CreateGemm(), BenchE2eCommand.Create() };

    private static Command CreateGemm()
    {
        var shapes = new Option<string[]>("--shape") { Description = "Shapes: 'peak' (73728x18432), 'scaled' (1024*SMs x 256*SMs) or KxN. Repeatable.", AllowMultipleArgumentsPerToken = true };
        var layers = new Option<string[]>("--layers") { Description = $"Layer sets summed per batch size: {string.Join(", ", ShapeCatalog.LayerSets.Select(s => s.Name))}, or 'all'.", AllowMultipleArgumentsPerToken = true };
        var batches = new Option<string?>("--m") { Description = "Comma-separated batch sizes for --shape (default 1,2,4,...,16384)." };
        var layerBatches = new Option<string?>("--layers-m") { Description = "Comma-separated batch sizes for --layers (default 16)." };
        var group = new Option<int>("--group") { Description = "Group size: 128, 64, 32 or -1 (per output channel).", DefaultValueFactory = _ => 128 };
        var json = new Option<FileInfo?>("--json") { Description = "Write every figure to this JSON file." };
        var svg = new Option<FileInfo?>("--svg") { Description = "Draw speedup against batch size to this SVG file." };
        var config = new Option<string?>("--config") { Description = "Force a kernel configuration: MBLOCKS,TILE_N,TILE_K,STAGES[,CTAS_PER_SM[,EVICT_FIRST[,PREFETCH[,SWAP_AB[,WHOLE_COLUMNS[,BULK]]]]]], 'dense' (the selector without the streamed kernel), stream[,WARPS[,A_RING[,CHUNKS_PER_CTA]]] or wgmma[,ROWS[,TILE_K[,STAGES[,CTAS_PER_SM]]]] (tuning)." };
        var command = new Command("gemm", "FP16xINT4 Marlin GEMM against cuBLAS FP16: the paper's peak shape sweep and model layer sets. With no --shape/--layers runs the full default set.")
            { shapes, layers, batches, layerBatches, group, json, svg, config };
        command.SetAction(r => CliAction.Run(() => RunGemm(r.GetValue(shapes) ?? [], r.GetValue(layers) ?? [], r.GetValue(batches), r.GetValue(layerBatches),
            r.GetValue(group), r.GetValue(json), r.GetValue(svg), r.GetValue(config))));
        return command;
    }

    private static int RunGemm(string[] shapeArgs, string[] layerArgs, string? batchArg, string? layerBatchArg, int groupSize,
        FileInfo? jsonFile, FileInfo? svgFile, string? configArg)
    {
        MarlinKernelConfig.GroupBlocksFor(groupSize);   // validates --group before touching the GPU
        int[] batchSizes = OptionParsing.PositiveIntList(batchArg, "--m") ?? [.. ShapeCatalog.DefaultBatchSizes];
        int[] layerBatchSizes = OptionParsing.PositiveIntList(layerBatchArg, "--layers-m") ?? [16];
        bool defaults = shapeArgs.Length == 0 && layerArgs.Length == 0;
        if (defaults) { shapeArgs = ["peak", "scaled"]; layerArgs = ["all"]; }
        var layerSets = layerArgs.Contains("all", StringComparer.OrdinalIgnoreCase)
            ? ShapeCatalog.LayerSets.ToList()
            : layerArgs.Select(ShapeCatalog.Find).ToList();

        // Every argument is checked before the GPU is touched ("scaled" is resolved once the SM count is known).
        bool denseOnly = string.Equals(configArg, "dense", StringComparison.OrdinalIgnoreCase);
        IMarlinKernelVariant? config = configArg is null || denseOnly ? null : ParseConfig(configArg, groupSize);
        foreach (string shape in shapeArgs) ShapeCatalog.ParseShape(shape, multiprocessors: 1);

        using var runtime = MarlinRuntime.Create();
        if (denseOnly) runtime.StreamSmallBatches = false;
        DeviceInfo device = runtime.Device;
        var shapeList = shapeArgs.Select(s => ShapeCatalog.ParseShape(s, device.MultiprocessorCount)).ToList();
        ulong seed = (ulong)Random.Shared.NextInt64();
        using var bench = new GemmBenchmark(runtime, groupSize, seed, config);

        Console.WriteLine($"{device.Name} ({device.Architecture}, {device.MultiprocessorCount} SMs), CUDA driver {device.DriverVersion}, NVRTC {Nvrtc.Version}, cuBLAS {CublasHandle.Version}, group size {groupSize}");
        double copyGBs = bench.MeasureCopyBandwidthGBs();
        Console.WriteLine($"device-to-device copy: {copyGBs:F0} GB/s (read + write)");
        Console.WriteLine();
        Console.WriteLine($"{"set",-22} {"k x n",-14} {"m",6} {"FP16 ms",9} {"INT4 ms",9} {"speedup",8} {"TFLOP/s",8} {"GB/s",7} {"%copy",6}  config");

        void Print(GemmPoint p) => Console.WriteLine(
            $"{p.Set,-22} {$"{p.K}x{p.N}",-14} {p.M,6} {p.Fp16Ms,9:F4} {p.Int4Ms,9:F4} {p.Speedup,7:F2}x {p.Int4Tflops,8:F1} {p.Int4GBs,7:F0} {p.PercentOfCopyBandwidth,5:F0}%  {p.Config}");

        var points = new List<GemmPoint>();
        foreach (var (name, k, n) in shapeList)
            points.AddRange(bench.MeasureShape(name, k, n, batchSizes, copyGBs, Print));

        var setPoints = new List<LayerSetPoint>();
        foreach (var set in layerSets)
        {
            var layerPoints = set.Layers.Select(l => bench.MeasureShape(set.Name, l.K, l.N, layerBatchSizes, copyGBs, Print)).ToList();
            foreach (int m in layerBatchSizes)
            {
                var atM = layerPoints.Select(lp => lp.Single(p => p.M == m)).ToList();
                points.AddRange(atM);
                setPoints.Add(new LayerSetPoint(set.Name, m, atM.Sum(p => p.Fp16Ms), atM.Sum(p => p.Int4Ms)));
            }
        }

        if (setPoints.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine($"{"layer set (summed)",-22} {"m",6} {"FP16 ms",9} {"INT4 ms",9} {"speedup",8}");
            foreach (var s in setPoints) Console.WriteLine($"{s.Set,-22} {s.M,6} {s.Fp16Ms,9:F4} {s.Int4Ms,9:F4} {s.Speedup,7:F2}x");
        }

        if (jsonFile is not null)
        {
            var report = new
            {
                date = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                device = new { device.Name, device.Architecture, device.MultiprocessorCount, device.L2CacheBytes, device.DriverVersion },
                nvrtc = Nvrtc.Version.ToString(),
                cublas = CublasHandle.Version.ToString(),
                groupSize,
                copyBandwidthGBs = copyGBs,
                points = points.Select(p => new { p.Set, p.K, p.N, p.M, p.Config, p.Fp16Ms, p.Int4Ms, p.Speedup, p.Int4Tflops, p.Fp16Tflops, p.Int4GBs, p.PercentOfCopyBandwidth }),
                layerSets = setPoints.Select(s => new { s.Set, s.M, s.Fp16Ms, s.Int4Ms, s.Speedup }),
            };
            File.WriteAllText(jsonFile.FullName, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"wrote {jsonFile.FullName}");
        }
        if (svgFile is not null)
        {
            var series = shapeList.Select(s => (s.Name, (IReadOnlyList<(int, double)>)points.Where(p => p.Set == s.Name).Select(p => (p.M, p.Speedup)).ToList())).ToList();
            File.WriteAllText(svgFile.FullName, SpeedupChart.Render($"Marlin INT4 vs cuBLAS FP16, {device.Name}, g={groupSize}", series));
            Console.WriteLine($"wrote {svgFile.FullName}");
        }
        return 0;
    }

    /// <summary>
    /// A forced configuration. "stream[,WARPS[,A_RING[,CHUNKS_PER_CTA]]]" is the streamed kernel for every batch size it
    /// serves (its batch blocks follow each m, so --m must stay within 16 rows).
    /// </summary>
    internal static IMarlinKernelVariant ParseConfig(string text, int groupSize)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        int Field(int i, int fallback, string what) => parts.Length <= i ? fallback
            : int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) ? x
            : throw new ArgumentException($"--config {text}: '{parts[i]}' is not {what}.");
        T Checked<T>(T variant) where T : IMarlinKernelVariant
        {
            try { variant.Validate(); }
            catch (ArgumentException e) { throw new ArgumentException($"--config {text}: {e.Message}", e); }
            return variant;
        }
        if (string.Equals(parts[0], "stream", StringComparison.OrdinalIgnoreCase))
        {
            if (parts.Length > 4) throw new ArgumentException($"--config {text}: expected stream[,WARPS[,A_RING[,CHUNKS_PER_CTA]]].");
            return Checked(new MarlinStreamConfig(2, MarlinKernelConfig.GroupBlocksFor(groupSize), Field(1, 4, "a warp count (4 or 8)"),
                Field(2, 2, "an activation ring depth (2..4)"), ChunksPerCta: Field(3, 1, "a chunk count per CTA (1, 2, 4 or 8)")));
        }
        if (string.Equals(parts[0], "wgmma", StringComparison.OrdinalIgnoreCase))
        {
            if (parts.Length > 5) throw new ArgumentException($"--config {text}: expected wgmma[,ROWS[,TILE_K[,STAGES[,CTAS_PER_SM]]]].");
            return Checked(new MarlinWideConfig(Field(1, 128, "a row count (16, 32, 64 or 128)"), Field(2, 128, "a tile depth (64 or 128)"),
                Field(3, 4, "a stage count (3..6)"), MarlinKernelConfig.GroupBlocksFor(groupSize), Field(4, 1, "a CTA count per SM (1 or 2)")));
        }
        int[] v = parts.Select(t => int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) && x >= 0
            ? x : throw new ArgumentException($"--config: '{t}' is not a non-negative integer.")).ToArray();
        if (v.Length is < 4 or > 10)
            throw new ArgumentException("--config expects MBLOCKS,TILE_N,TILE_K,STAGES[,CTAS_PER_SM[,EVICT_FIRST 0|1[,PREFETCH 0|128|256[,SWAP_AB 0|1|2|4[,WHOLE_COLUMNS 0|1[,BULK 0|1]]]]]], e.g. 1,256,128,3,2,0,0,1.");
        var config = new MarlinKernelConfig(v[0], v[1], v[2], v[3], MarlinKernelConfig.GroupBlocksFor(groupSize),
            EvictFirst: v.Length > 5 && v[5] != 0, CtasPerSm: v.Length > 4 ? v[4] : 1, PrefetchBytes: v.Length > 6 ? v[6] : 0, SwapAb: v.Length > 7 ? v[7] : 0,
            WholeColumns: v.Length > 8 && v[8] != 0, BulkWeights: v.Length > 9 && v[9] != 0);
        return Checked(config);
    }
}
