using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MarlinSharp.Cli.Engine;
using MarlinSharp.Models.Engine;
using MarlinSharp.Models.Tokenization;

namespace MarlinSharp.Cli.Commands;

/// <summary><c>marlin generate</c>: loads a Hugging Face Llama-family folder and streams a continuation of one prompt.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face model folder (config.json, *.safetensors, tokenizer.json).", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "The prompt text (encoded with the folder's tokenizer.json)." };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "The prompt as comma-separated token ids (no tokenizer needed); the output is then the generated ids as a JSON array." };
        var int4 = new Option<bool>("--int4") { Description = "Quantize the decoder projections to 4 bits at load (RTN, group 128) and run them through Marlin." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 128 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => 0 };
        var topK = new Option<int>("--top-k") { Description = "Sample only from the K most likely tokens (0 = no limit).", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "Sample only from the most likely tokens whose probabilities add up to P (1 = no limit).", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for sampling (default: a random one, printed on stderr)." };
        var noSpecial = new Option<bool>("--no-special") { Description = "Do not add the special tokens (such as BOS) the tokenizer's post-processor adds to the prompt." };
        var command = new Command("generate", "Generate text from a prompt, streaming tokens to standard output as they come.")
            { model, prompt, promptIds, int4, maxTokens, temperature, topK, topP, seed, noSpecial };
        command.SetAction(r => CliAction.Run(r, o => Run(o, new GenerateRequest(r.GetValue(model)!, r.GetValue(prompt), r.GetValue(promptIds),
            r.GetValue(int4) ? LinearFormat.Int4 : LinearFormat.Fp16, r.GetValue(maxTokens), r.GetValue(temperature), r.GetValue(topK), r.GetValue(topP),
            r.GetValue(seed), !r.GetValue(noSpecial)))));
        return command;
    }

    private static int Run(CliOutput output, GenerateRequest request)
    {
        var sampling = request.Validate();
        using var checkpoint = LlamaCheckpoint.Open(request.Model);
        var prepared = PreparedPrompt.Prepare(checkpoint, request);     // everything that can fail without a GPU fails here
        var progress = new StderrProgress(output.Error, "loading: ");
        if (!sampling.IsGreedy) output.Error.WriteLine($"sampling with seed {sampling.Seed}");
        if (prepared.MaxNewTokens < request.MaxTokens)
            output.Error.WriteLine($"note: the context of {checkpoint.Config.MaxPositionEmbeddings} leaves room for {prepared.MaxNewTokens} new tokens after the {prepared.Ids.Length}-token prompt");

        using var runtime = MarlinRuntime.Create();
        var loadTimer = Stopwatch.StartNew();
        using var weights = LlamaWeights.Load(runtime, checkpoint, request.Format, progress);
        progress.Done($"{weights.DeviceBytes / 1e9:F2} GB of {(request.Format == LinearFormat.Int4 ? "INT4" : "FP16")} weights in {loadTimer.Elapsed.TotalSeconds:F1} s");
        using var model = new LlamaModel(runtime, weights, slots: 1, maxContext: Math.Min(prepared.Ids.Length + prepared.MaxNewTokens, checkpoint.Config.MaxPositionEmbeddings),
            maxBatchTokens: Math.Min(prepared.Ids.Length, 512));

        var streaming = prepared.Tokenizer is not null && request.Prompt is not null ? new StreamingDecoder(prepared.Tokenizer) : null;
        var generated = new List<int>();
        var clock = Stopwatch.StartNew();
        double firstTokenMs = 0;
        FinishReason finish = FinishReason.MaxTokens;
        var scheduler = new BatchScheduler(model);
        scheduler.Submit(new GenerationRequest(prepared.Ids, prepared.MaxNewTokens, sampling, prepared.StopIds, e =>
        {
            if (e.Index == 0) firstTokenMs = clock.Elapsed.TotalMilliseconds;
            generated.Add(e.Token);
            if (e.Finish is { } f) finish = f;
            if (streaming is not null && e.Finish != FinishReason.StopToken)
            {
                string piece = streaming.Add(e.Token);
                if (piece.Length > 0) { output.Out.Write(piece); output.Out.Flush(); }
            }
        }));
        scheduler.RunToCompletion();
        double totalMs = clock.Elapsed.TotalMilliseconds;

        if (streaming is not null) output.Out.WriteLine(streaming.Flush());
        else output.Out.WriteLine(JsonSerializer.Serialize(generated));
        double decodeMs = totalMs - firstTokenMs;
        string rate = generated.Count > 1 ? $", then {(generated.Count - 1) * 1000 / decodeMs:F1} tokens/s" : "";
        output.Error.WriteLine($"{generated.Count} tokens ({Describe(finish)}): prompt of {prepared.Ids.Length} tokens in {firstTokenMs:F0} ms{rate}");
        return 0;
    }

    private static string Describe(FinishReason reason) => reason switch
    {
        FinishReason.StopToken => "stopped at an end-of-sequence token",
        FinishReason.MaxTokens => "reached --max-tokens",
        _ => "reached the end of the context",
    };
}

/// <summary>The parsed options of <c>marlin generate</c>.</summary>
internal sealed record GenerateRequest(string Model, string? Prompt, string? PromptIds, LinearFormat Format, int MaxTokens,
    double Temperature, int TopK, double TopP, ulong? Seed, bool AddSpecialTokens)
{
    /// <summary>Checks the options that need no files; returns the sampling settings.</summary>
    public SamplingOptions Validate()
    {
        OptionParsing.Require((Prompt is null) != (PromptIds is null), "--prompt", "give either --prompt TEXT or --prompt-ids 1,2,3 (exactly one)");
        OptionParsing.Require(MaxTokens >= 1, "--max-tokens", $"must be at least 1 (got {MaxTokens})");
        OptionParsing.Require(double.IsFinite(Temperature) && Temperature >= 0, "--temperature", $"must be 0 (greedy) or positive (got {Temperature.ToString(CultureInfo.InvariantCulture)})");
        OptionParsing.Require(TopK >= 0, "--top-k", $"must be 0 (no limit) or positive (got {TopK})");
        OptionParsing.Require(TopP > 0 && TopP <= 1, "--top-p", $"must be in (0, 1] (got {TopP.ToString(CultureInfo.InvariantCulture)})");
        if (PromptIds is not null) OptionParsing.TokenIds(PromptIds, "--prompt-ids");
        var sampling = new SamplingOptions(Temperature, TopK, TopP, Seed ?? (ulong)Random.Shared.NextInt64());
        sampling.Validate();
        return sampling;
    }
}

/// <summary>The prompt's ids, the stop ids and the token budget, checked against the model before any GPU work.</summary>
internal sealed record PreparedPrompt(int[] Ids, int MaxNewTokens, IReadOnlyCollection<int> StopIds, Tokenizer? Tokenizer)
{
    public static PreparedPrompt Prepare(LlamaCheckpoint checkpoint, GenerateRequest request)
    {
        var config = checkpoint.Config;
        string configPath = Path.Combine(checkpoint.Directory, LlamaCheckpoint.ConfigFile);
        // The tokenizer is only read for a text prompt, so --prompt-ids works for folders without (or with a broken) one.
        var tokenizer = request.Prompt is not null ? TokenizerFiles.TryLoadFromModel(checkpoint.Directory) : null;
        int[] ids;
        if (request.Prompt is not null)
        {
            if (tokenizer is null)
                throw new FileNotFoundException($"'{Path.Combine(checkpoint.Directory, TokenizerFiles.TokenizerJson)}' is missing: --prompt needs the model's tokenizer (or give token ids with --prompt-ids).");
            ids = tokenizer.Encode(request.Prompt, request.AddSpecialTokens);
            if (ids.Length == 0) throw new ArgumentException("--prompt: the prompt encodes to no tokens.");
        }
        else
        {
            ids = OptionParsing.TokenIds(request.PromptIds, "--prompt-ids") ?? throw new ArgumentException("--prompt-ids: no token ids given.");
            foreach (int id in ids)
                if (id >= config.VocabSize) throw new ArgumentException($"--prompt-ids: token id {id} is outside the vocabulary (vocab_size {config.VocabSize} in '{configPath}').");
        }
        if (ids.Length > config.MaxPositionEmbeddings)
            throw new ArgumentException($"The prompt is {ids.Length} tokens long, more than the model's context of {config.MaxPositionEmbeddings} tokens (max_position_embeddings in '{configPath}').");

        var generation = checkpoint.LoadGenerationConfig();
        IReadOnlyCollection<int> stops = generation.EosTokenIds.Count > 0 ? [.. generation.EosTokenIds]
            : config.EosTokenIds.Count > 0 ? [.. config.EosTokenIds]
            : tokenizer?.EosTokenId is int eos ? [eos] : [];
        int room = Math.Max(1, config.MaxPositionEmbeddings - ids.Length);
        return new PreparedPrompt(ids, Math.Min(request.MaxTokens, room), stops, tokenizer);
    }
}
