using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace MarlinSharp.Models.Tokenization;

/// <summary>
/// Byte-pair-encoding model as stored in tokenizer.json ("model": {"type": "BPE", ...}).
/// Merging uses a priority queue keyed by (merge rank, position) over a linked list of symbols,
/// so a word of n characters costs O(n log n); results for short words are cached.
/// </summary>
internal sealed class BpeModel
{
    private const int CacheCapacity = 20_000;
    private const int MaxCachedWordLength = 256;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabLookup;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly int[] _byteTokens; // id of "<0xAB>" per byte, or -1
    private readonly int? _unkId;
    private readonly bool _fuseUnk, _byteFallback, _ignoreMerges;
    private readonly string? _prefix, _suffix;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> Vocab => _vocab;
    public Dictionary<int, string> IdToToken { get; }

    private BpeModel(Dictionary<string, int> vocab, Dictionary<long, (int, int)> merges, int? unkId, bool fuseUnk, bool byteFallback,
        bool ignoreMerges, string? prefix, string? suffix)
    {
        _vocab = vocab;
        _vocabLookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = merges;
        _unkId = unkId;
        _fuseUnk = fuseUnk;
        _byteFallback = byteFallback;
        _ignoreMerges = ignoreMerges;
        _prefix = string.IsNullOrEmpty(prefix) ? null : prefix;
        _suffix = string.IsNullOrEmpty(suffix) ? null : suffix;
        IdToToken = new Dictionary<int, string>(vocab.Count);
        foreach (var (k, v) in vocab) IdToToken[v] = k;
        _byteTokens = new int[256];
        for (int b = 0; b < 256; b++) _byteTokens[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
    }

    public static BpeModel Parse(JsonElement model, string path, JsonContext ctx)
    {
        var vocabEl = ctx.Require(model, "vocab", path);
        if (vocabEl.ValueKind != JsonValueKind.Object) throw ctx.Invalid(path + ".vocab", "must be an object mapping token to id");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var prop in vocabEl.EnumerateObject())
        {
            if (prop.Value.ValueKind != JsonValueKind.Number || !prop.Value.TryGetInt32(out int id) || id < 0)
                throw ctx.Invalid($"{path}.vocab[\"{prop.Name}\"]", $"must be a non-negative integer id (found {prop.Value.GetRawText()})");
            vocab[prop.Name] = id;
        }

        var merges = new Dictionary<long, (int, int)>();
        if (JsonContext.TryGet(model, "merges", out var mergesEl))
        {
            if (mergesEl.ValueKind != JsonValueKind.Array) throw ctx.Invalid(path + ".merges", "must be an array");
            int rank = 0;
            foreach (var m in mergesEl.EnumerateArray())
            {
                string mpath = $"{path}.merges[{rank}]";
                string a, b;
                if (m.ValueKind == JsonValueKind.String)
                {
                    string s = m.GetString()!;
                    int sp = s.IndexOf(' ', StringComparison.Ordinal);
                    if (sp <= 0 || sp == s.Length - 1 || s.IndexOf(' ', sp + 1) >= 0)
                        throw ctx.Invalid(mpath, $"must be two tokens separated by one space (found \"{s}\")");
                    a = s[..sp];
                    b = s[(sp + 1)..];
                }
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 &&
                         m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                {
                    a = m[0].GetString()!;
                    b = m[1].GetString()!;
                }
                else throw ctx.Invalid(mpath, $"must be \"a b\" or [\"a\", \"b\"] (found {m.GetRawText()})");
                if (!vocab.TryGetValue(a, out int ida)) throw ctx.Invalid(mpath, $"refers to token \"{a}\" which is not in model.vocab");
                if (!vocab.TryGetValue(b, out int idb)) throw ctx.Invalid(mpath, $"refers to token \"{b}\" which is not in model.vocab");
                string merged = a + b;
                if (!vocab.TryGetValue(merged, out int idm)) throw ctx.Invalid(mpath, $"produces \"{merged}\" which is not in model.vocab");
                merges.TryAdd(Key(ida, idb), (rank, idm));
                rank++;
            }
        }

        string? unk = ctx.OptString(model, "unk_token", path);
        int? unkId = null;
        if (unk != null)
        {
            if (!vocab.TryGetValue(unk, out int u)) throw ctx.Invalid(path + ".unk_token", $"\"{unk}\" is not in model.vocab");
            unkId = u;
        }
        return new BpeModel(vocab, merges, unkId,
            ctx.OptBool(model, "fuse_unk", path, false),
            ctx.OptBool(model, "byte_fallback", path, false),
            ctx.OptBool(model, "ignore_merges", path, false),
            ctx.OptString(model, "continuing_subword_prefix", path),
            ctx.OptString(model, "end_of_word_suffix", path));
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    /// <summary>Appends the ids for one pre-tokenized word.</summary>
    public void Tokenize(string word, List<int> output)
    {
        if (word.Length == 0) return;
        if (_ignoreMerges && _vocab.TryGetValue(word, out int whole)) { output.Add(whole); return; }
        if (_cache.TryGetValue(word, out var cached)) { output.AddRange(cached); return; }
        var ids = MergeWord(word);
        if (word.Length < MaxCachedWordLength && _cache.Count < CacheCapacity) _cache.TryAdd(word, ids);
        output.AddRange(ids);
    }

    private int[] MergeWord(string w)
    {
        var symbols = new List<int>(w.Length);
        int? pendingUnk = null;
        var sb = new StringBuilder();
        for (int i = 0; i < w.Length;)
        {
            int len = char.IsHighSurrogate(w[i]) && i + 1 < w.Length && char.IsLowSurrogate(w[i + 1]) ? 2 : 1;
            bool isFirst = i == 0, isLast = i + len == w.Length;
            ReadOnlySpan<char> ch = w.AsSpan(i, len);
            ReadOnlySpan<char> s = ch;
            if ((!isFirst && _prefix != null) || (isLast && _suffix != null))
            {
                sb.Clear();
                if (!isFirst && _prefix != null) sb.Append(_prefix);
                sb.Append(ch);
                if (isLast && _suffix != null) sb.Append(_suffix);
                s = sb.ToString();
            }
            i += len;

            if (_vocabLookup.TryGetValue(s, out int id))
            {
                if (pendingUnk is int u) { symbols.Add(u); pendingUnk = null; }
                symbols.Add(id);
                continue;
            }
            if (_byteFallback)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(s.ToString());
                bool all = true;
                foreach (byte b in bytes) if (_byteTokens[b] < 0) { all = false; break; }
                if (all)
                {
                    foreach (byte b in bytes) symbols.Add(_byteTokens[b]);
                    continue;
                }
            }
            if (_unkId is int unkId)
            {
                if (pendingUnk is int u && !_fuseUnk) symbols.Add(u);
                pendingUnk = unkId;
            }
        }
        if (pendingUnk is int last) symbols.Add(last);
        return Merge(symbols);
    }

    private int[] Merge(List<int> symbols)
    {
        int n = symbols.Count;
        if (n <= 1 || _merges.Count == 0) return symbols.ToArray();
        var ids = symbols.ToArray();
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; alive[i] = true; }
        var queue = new PriorityQueue<int, long>();
        for (int i = 0; i + 1 < n; i++)
            if (_merges.TryGetValue(Key(ids[i], ids[i + 1]), out var m)) queue.Enqueue(i, Priority(m.Rank, i));

        while (queue.TryDequeue(out int pos, out long prio))
        {
            if (!alive[pos]) continue;
            int right = next[pos];
            if (right < 0) continue;
            if (!_merges.TryGetValue(Key(ids[pos], ids[right]), out var m) || Priority(m.Rank, pos) != prio) continue;
            ids[pos] = m.NewId;
            alive[right] = false;
            int after = next[right];
            next[pos] = after;
            if (after >= 0) prev[after] = pos;
            int before = prev[pos];
            if (before >= 0 && _merges.TryGetValue(Key(ids[before], ids[pos]), out var mb)) queue.Enqueue(before, Priority(mb.Rank, before));
            if (after >= 0 && _merges.TryGetValue(Key(ids[pos], ids[after]), out var ma)) queue.Enqueue(pos, Priority(ma.Rank, pos));
        }
        var result = new List<int>(n);
        for (int i = 0; i >= 0; i = next[i]) result.Add(ids[i]);
        return result.ToArray();
    }

    private static long Priority(int rank, int pos) => ((long)rank << 32) | (uint)pos;
}
