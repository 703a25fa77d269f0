using System.CommandLine;
using System.Text.Json;
using MarlinSharp.Cli.Engine;

namespace MarlinSharp.Cli.Commands;

/// <summary><c>marlin tokenize --tokenizer FILE [--no-special] TEXT</c>: the ids of TEXT as one JSON array.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json (or the folder holding it).", Required = true };
        var noSpecial = new Option<bool>("--no-special") { Description = "Leave out the special tokens the post-processor adds (such as BOS)." };
        var text = new Argument<string>("TEXT") { Description = "The text to encode." };
        var command = new Command("tokenize", "Print the token ids of TEXT as one JSON array, as Hugging Face encode does.") { tokenizer, noSpecial, text };
        command.SetAction(r => CliAction.Run(r, o => Run(o, r.GetValue(tokenizer)!, r.GetValue(text)!, !r.GetValue(noSpecial))));
        return command;
    }

    private static int Run(CliOutput output, string tokenizerPath, string text, bool addSpecial)
    {
        var tokenizer = TokenizerFiles.Load(tokenizerPath, withConfig: false);
        output.Out.WriteLine(JsonSerializer.Serialize(tokenizer.Encode(text, addSpecial)));
        return 0;
    }
}
