using System.Text.Json;

namespace MarlinSharp.Models.Tokenization;

/// <summary>Post-processor for single sequences: the ids placed before and after the encoded text.</summary>
internal sealed class PostProcessor
{
    public int[] Prefix { get; private init; } = [];
    public int[] Suffix { get; private init; } = [];

    public static PostProcessor None { get; } = new();

    public static PostProcessor Parse(JsonElement e, string path, JsonContext ctx)
    {
        if (e.ValueKind == JsonValueKind.Null || e.ValueKind == JsonValueKind.Undefined) return None;
        string type = ctx.RequireString(e, "type", path);
        switch (type)
        {
            case "ByteLevel":
                return None; // only adjusts offsets
            case "Sequence":
            {
                var arr = ctx.Require(e, "processors", path);
                if (arr.ValueKind != JsonValueKind.Array) throw ctx.Invalid(path + ".processors", "must be an array");
                var prefix = new List<int>();
                var suffix = new List<int>();
                int i = 0;
                foreach (var item in arr.EnumerateArray())
                {
                    var p = Parse(item, $"{path}.processors[{i++}]", ctx);
                    // Each processor wraps the output of the previous one.
                    prefix.InsertRange(0, p.Prefix);
                    suffix.AddRange(p.Suffix);
                }
                return new PostProcessor { Prefix = prefix.ToArray(), Suffix = suffix.ToArray() };
            }
            case "RobertaProcessing":
            case "BertProcessing":
                return new PostProcessor
                {
                    Prefix = [PairId(ctx.Require(e, "cls", path), path + ".cls", ctx)],
                    Suffix = [PairId(ctx.Require(e, "sep", path), path + ".sep", ctx)],
                };
            case "TemplateProcessing":
                return ParseTemplate(e, path, ctx);
            default:
                throw ctx.Unsupported(path + ".type", $"post-processor type \"{type}\"");
        }
    }

    private static int PairId(JsonElement pair, string path, JsonContext ctx)
    {
        if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2 || !pair[1].TryGetInt32(out int id))
            throw ctx.Invalid(path, "must be [token, id]");
        return id;
    }

    private static PostProcessor ParseTemplate(JsonElement e, string path, JsonContext ctx)
    {
        var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (JsonContext.TryGet(e, "special_tokens", out var st))
        {
            if (st.ValueKind != JsonValueKind.Object) throw ctx.Invalid(path + ".special_tokens", "must be an object");
            foreach (var prop in st.EnumerateObject())
            {
                string sp = $"{path}.special_tokens[\"{prop.Name}\"]";
                var idsEl = ctx.Require(prop.Value, "ids", sp);
                if (idsEl.ValueKind != JsonValueKind.Array) throw ctx.Invalid(sp + ".ids", "must be an array of integers");
                var ids = new List<int>();
                foreach (var x in idsEl.EnumerateArray())
                {
                    if (!x.TryGetInt32(out int v)) throw ctx.Invalid(sp + ".ids", "must be an array of integers");
                    ids.Add(v);
                }
                string key = ctx.OptString(prop.Value, "id", sp) ?? prop.Name;
                specials[key] = ids.ToArray();
            }
        }
        var single = ctx.Require(e, "single", path);
        string spath = path + ".single";
        var prefix = new List<int>();
        var suffix = new List<int>();
        bool seenSequence = false;
        int i = 0;
        foreach (var piece in EnumerateTemplate(single, spath, ctx))
        {
            string ipath = $"{spath}[{i++}]";
            if (JsonContext.TryGet(piece, "Sequence", out var seq))
            {
                string id = ctx.RequireString(seq, "id", ipath + ".Sequence");
                if (id != "A") throw ctx.Unsupported(ipath + ".Sequence.id", $"sequence \"{id}\" in the single-sequence template");
                if (seenSequence) throw ctx.Unsupported(ipath, "a template that repeats $A");
                seenSequence = true;
            }
            else if (JsonContext.TryGet(piece, "SpecialToken", out var tok))
            {
                string id = ctx.RequireString(tok, "id", ipath + ".SpecialToken");
                if (!specials.TryGetValue(id, out var ids))
                    throw ctx.Invalid(ipath + ".SpecialToken.id", $"\"{id}\" is not listed in {path}.special_tokens");
                (seenSequence ? suffix : prefix).AddRange(ids);
            }
            else throw ctx.Invalid(ipath, "must contain \"Sequence\" or \"SpecialToken\"");
        }
        return new PostProcessor { Prefix = prefix.ToArray(), Suffix = suffix.ToArray() };
    }

    private static IEnumerable<JsonElement> EnumerateTemplate(JsonElement single, string path, JsonContext ctx)
    {
        if (single.ValueKind == JsonValueKind.Array) return single.EnumerateArray().ToList();
        if (single.ValueKind == JsonValueKind.String)
        {
            // Compact form "<s> $A:0 </s>" (only produced by hand-written files).
            var items = new List<JsonElement>();
            foreach (var part in single.GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                string name = part.Split(':')[0];
                string json = name.StartsWith('$')
                    ? JsonSerializer.Serialize(new Dictionary<string, object> { ["Sequence"] = new Dictionary<string, object> { ["id"] = name.Length > 1 ? name[1..] : "A" } })
                    : JsonSerializer.Serialize(new Dictionary<string, object> { ["SpecialToken"] = new Dictionary<string, object> { ["id"] = name } });
                items.Add(JsonDocument.Parse(json).RootElement.Clone());
            }
            return items;
        }
        throw ctx.Invalid(path, "must be an array");
    }
}
