using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MarlinSharp.Cli.Benchmarks;
using MarlinSharp.Cli.Engine;
using MarlinSharp.Cuda;
using MarlinSharp.Models.Configuration;
using MarlinSharp.Models.Engine;

namespace MarlinSharp.Cli.Commands;

/// <summary><c>marlin bench e2e</c>: time per output token and tokens/s of FP16 against INT4 generation, per batch size.</summary>
internal static class BenchE2eCommand
{
    public const string DefaultShape = "llama2-7b";
    public static readonly int[] DefaultBatches = [1, 2, 4, 8, 16, 32, 64];

    public static Command Create()
    {
        var shape = new Option<string?>("--shape") { Description = $"Model shape with random weights: {string.Join(", ", LlamaConfig.PresetNames)} (default {DefaultShape})." };
        var model = new Option<string?>("--model") { Description = "Load this Hugging Face model folder instead of random weights (INT4 is quantized at load)." };
        var batch = new Option<string?>("--batch") { Description = $"Comma-separated batch sizes (default {string.Join(",", DefaultBatches)})." };
        var input = new Option<int>("--input") { Description = "Prompt tokens per sequence.", DefaultValueFactory = _ => 64 };
        var output = new Option<int>("--output") { Description = "Generated tokens per sequence (at least 2: the first comes from the prefill).", DefaultValueFactory = _ => 64 };
        var layers = new Option<int?>("--layers") { Description = "Override the number of decoder layers of --shape (to fit in memory; time scales about linearly)." };
        var json = new Option<FileInfo?>("--json") { Description = "Write every figure to this JSON file." };
        var profile = new Option<bool>("--profile") { Description = "Also profile one decode step per format and batch size: GPU time per operation, run without CUDA graphs." };
        var command = new Command("e2e", "End-to-end generation, FP16 against INT4 (Marlin): time per output token and tokens/s for each batch size, as in the Marlin paper.")
            { shape, model, batch, input, output, layers, json, profile };
        command.SetAction(r => CliAction.Run(r, o => Run(o, E2eRequest.Parse(r.GetValue(shape), r.GetValue(model), r.GetValue(batch),
            r.GetValue(input), r.GetValue(output), r.GetValue(layers), r.GetValue(profile)), r.GetValue(json))));
        return command;
    }

    private static int Run(CliOutput o, E2eRequest request, FileInfo? jsonFile)
    {
        using var checkpoint = request.Model is null ? null : LlamaCheckpoint.Open(request.Model);
        var config = checkpoint?.Config ?? request.Config!;
        OptionParsing.Require(request.Input + request.Output <= config.MaxPositionEmbeddings, "--input",
            $"--input {request.Input} plus --output {request.Output} exceed the model's context of {config.MaxPositionEmbeddings} (max_position_embeddings)");
        LlamaWeights.ValidateFormat(config, LinearFormat.Int4);
        string name = checkpoint is null ? request.ShapeName! : Path.GetFileName(checkpoint.Directory);
        int maxBatch = request.Batches.Max();
        var progress = new StderrProgress(o.Error, "bench e2e: ");

        using var runtime = MarlinRuntime.Create();
        using var timeline = request.Profile ? KernelTimeline.StartIfRequested(runtime) : null;
        DeviceInfo device = runtime.Device;
        progress.Report("measuring device-to-device copy bandwidth");
        double copyGBs = CopyBandwidth.MeasureGBs(runtime);
        var (free, _) = runtime.Context.MemoryInfo();
        foreach (var format in new[] { LinearFormat.Fp16, LinearFormat.Int4 })
            E2eBenchmark.CheckFits(name, config, format, maxBatch, request.Input, request.Output, free, layersAdjustable: checkpoint is null);

        var results = new Dictionary<LinearFormat, List<E2ePoint>>();
        long fp16WeightBytes = 0;
        foreach (var format in new[] { LinearFormat.Fp16, LinearFormat.Int4 })
        {
            progress.Report(checkpoint is null
                ? $"building random {E2eBenchmark.Name(format)} weights ({LlamaWeights.EstimateDeviceBytes(config, format) / 1e9:F1} GB)"
                : $"loading {E2eBenchmark.Name(format)} weights from {checkpoint.Directory}");
            using (var weights = checkpoint is null
                ? LlamaWeights.Random(runtime, config, seed: 1234, format)
                : LlamaWeights.Load(runtime, checkpoint, format, new Progress(progress, $"loading {E2eBenchmark.Name(format)} ")))
            {
                if (format == LinearFormat.Fp16) fp16WeightBytes = weights.LinearWeightBytes;
                results[format] = E2eBenchmark.Run(runtime, weights, request.Batches, request.Input, request.Output, seed: 42,
                    p => progress.Report($"{E2eBenchmark.Name(p.Format)} batch {p.Batch}: {p.MsPerToken:F2} ms/token, prefill {p.PrefillMs:F1} ms"), progress, request.Profile, timeline);
            }
        }
        progress.Done("done");

        var rows = request.Batches.Select((b, i) => (Batch: b, Fp16: results[LinearFormat.Fp16][i], Int4: results[LinearFormat.Int4][i])).ToList();
        double floorMs = fp16WeightBytes / (copyGBs * 1e6);
        var first = rows.OrderBy(r => r.Batch).First();
        double floorRatio = first.Fp16.MsPerToken / floorMs;

        var w = o.Out;
        w.WriteLine($"{device.Name} ({device.Architecture}, {device.MultiprocessorCount} SMs), {name}: {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, " +
                    $"{(checkpoint is null ? "random weights" : "weights from " + checkpoint.Directory)}; {request.Input} input + {request.Output} output tokens, greedy");
        w.WriteLine($"{"batch",5}  {"FP16 ms/tok",11} {"FP16 tok/s",10} {"FP16 prefill ms",15}  {"INT4 ms/tok",11} {"INT4 tok/s",10} {"INT4 prefill ms",15}  {"INT4 speedup",12}");
        foreach (var r in rows)
            w.WriteLine($"{r.Batch,5}  {r.Fp16.MsPerToken,11:F3} {r.Fp16.TokensPerSecond,10:F1} {r.Fp16.PrefillMs,15:F1}  {r.Int4.MsPerToken,11:F3} {r.Int4.TokensPerSecond,10:F1} {r.Int4.PrefillMs,15:F1}  {r.Fp16.MsPerToken / r.Int4.MsPerToken,11:F2}x");
        w.WriteLine($"weight-read floor: FP16 linear weights {fp16WeightBytes / 1e9:F2} GB / copy bandwidth {copyGBs:F0} GB/s = {floorMs:F3} ms per step; " +
                    $"FP16 batch {first.Batch} time per token is {floorRatio:F2}x the floor");
        if (request.Profile)
        {
            foreach (var r in rows)
                foreach (var p in new[] { r.Fp16, r.Int4 })
                {
                    w.WriteLine();
                    E2eProfileReport.Write(w, p);
                }
        }

        if (jsonFile is not null)
        {
            static object Figures(E2ePoint p) => new
            {
                msPerToken = p.MsPerToken, tokensPerSecond = p.TokensPerSecond, prefillMs = p.PrefillMs, decodeSteps = p.DecodeSteps,
                profileTotalMs = p.Profile?.TotalMs,                                   // one decode step without CUDA graphs
                backToBackMs = p.BackToBackMs,                                         // steps queued back to back, tokens not read
                chainedBackToBackMs = p.ChainedBackToBackMs,                           // chained steps queued back to back, tokens not read
                pipelined = p.Chained,                                                 // chained steps at a fixed position
                profile = p.Profile is null ? null : E2eProfileReport.Json(p.Profile),
            };
            var report = new
            {
                date = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                device = new { device.Name, device.Architecture, device.MultiprocessorCount, device.TotalMemoryBytes, device.DriverVersion },
                model = new { name, source = checkpoint?.Directory ?? "random", config.HiddenSize, config.IntermediateSize, config.NumHiddenLayers, config.NumAttentionHeads, config.NumKeyValueHeads, config.VocabSize },
                input = request.Input,
                output = request.Output,
                copyBandwidthGBs = copyGBs,
                fp16LinearWeightBytes = fp16WeightBytes,
                weightReadFloorMs = floorMs,
                fp16OverFloor = new { batch = first.Batch, ratio = floorRatio },
                points = rows.Select(r => new { batch = r.Batch, fp16 = Figures(r.Fp16), int4 = Figures(r.Int4), int4Speedup = r.Fp16.MsPerToken / r.Int4.MsPerToken }),
            };
            File.WriteAllText(jsonFile.FullName, JsonSerializer.Serialize(report, new JsonSerializerOptions
            {
                WriteIndented = true,
                DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,   // no profile fields without --profile
            }));
            w.WriteLine($"wrote {jsonFile.FullName}");
        }
        return 0;
    }

    /// <summary>Forwards loader reports to the command's progress line with a prefix.</summary>
    private sealed class Progress(IProgress<string> inner, string prefix) : IProgress<string>
    {
        public void Report(string value) => inner.Report(prefix + value);
    }
}

/// <summary>The checked options of <c>marlin bench e2e</c> (everything that needs no GPU).</summary>
internal sealed record E2eRequest(string? ShapeName, LlamaConfig? Config, string? Model, int[] Batches, int Input, int Output, bool Profile = false)
{
    public static E2eRequest Parse(string? shape, string? model, string? batch, int input, int output, int? layers, bool profile = false)
    {
        OptionParsing.Require(shape is null || model is null, "--model", "give --shape or --model, not both");
        OptionParsing.Require(layers is null || model is null, "--layers", "only applies to --shape (random weights), not to --model");
        OptionParsing.Require(input >= 1, "--input", $"must be at least 1 (got {input})");
        OptionParsing.Require(output >= 2, "--output", $"must be at least 2, as the first token comes from the prefill (got {output})");
        OptionParsing.Require(layers is null or >= 1, "--layers", $"must be at least 1 (got {layers})");
        int[] batches = OptionParsing.PositiveIntList(batch, "--batch") ?? BenchE2eCommand.DefaultBatches;
        OptionParsing.Require(batches.Length == batches.Distinct().Count(), "--batch", $"'{batch}' lists a batch size twice");
        if (model is not null) return new E2eRequest(null, null, model, batches, input, output, profile);

        string name = shape ?? BenchE2eCommand.DefaultShape;
        LlamaConfig config;
        try { config = LlamaConfig.Preset(name); }
        catch (ArgumentException) { throw new ArgumentException($"--shape: unknown shape '{name}'; known: {string.Join(", ", LlamaConfig.PresetNames)}."); }
        if (layers is int n) config = config with { NumHiddenLayers = n };
        OptionParsing.Require(input + output <= config.MaxPositionEmbeddings, "--input",
            $"--input {input} plus --output {output} exceed the context of {name} ({config.MaxPositionEmbeddings})");
        return new E2eRequest(name, config, null, batches, input, output, profile);
    }
}
