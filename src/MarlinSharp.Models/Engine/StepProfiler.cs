using MarlinSharp.Cuda;

namespace MarlinSharp.Models.Engine;

/// <summary>The operation categories of a forward step, as <see cref="StepProfile"/> labels them.</summary>
public static class StepOps
{
    public const string Metadata = "metadata upload";
    public const string Embed = "embed";
    public const string Norm = "norm";
    public const string QkvGemm = "qkv gemm";
    public const string Bias = "bias";
    public const string RopeAppend = "rope+kv append";
    public const string Attention = "attention";
    public const string OGemm = "o gemm";
    public const string GateUpGemm = "gate/up gemm";
    public const string SwiGlu = "swiglu";
    public const string DownGemm = "down gemm";
    public const string Gather = "gather";
    public const string LmHead = "lm head";
    public const string Logits = "logits";
}

/// <summary>GPU time of one operation category summed over a step (e.g. every layer's QKV GEMM).</summary>
/// <param name="Launches">Operations queued under the label (one operation can be more than one kernel, e.g. split attention and its merge).</param>
public readonly record struct StepProfileEntry(string Label, double Milliseconds, int Launches);

/// <summary>Per-operation GPU time of one forward step: entries in first-seen order, and the step's time from the first to the last event.</summary>
public sealed record StepProfile(IReadOnlyList<StepProfileEntry> Entries, double TotalMs)
{
    /// <summary>Sum of the entries' times (equals <see cref="TotalMs"/> up to event rounding: the intervals tile the step).</summary>
    public double SumMs => Entries.Sum(e => e.Milliseconds);

    /// <summary>Operations in the step.</summary>
    public int Launches => Entries.Sum(e => e.Launches);

    /// <summary>
    /// Sums consecutive (label, elapsed) intervals per label, keeping labels in the order they first appear.
    /// <paramref name="totalMs"/> is the measured first-to-last time; null takes the sum of the intervals.
    /// </summary>
    public static StepProfile Aggregate(IEnumerable<(string Label, double Milliseconds)> intervals, double? totalMs = null)
    {
        ArgumentNullException.ThrowIfNull(intervals);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var entries = new List<StepProfileEntry>();
        double sum = 0;
        foreach (var (label, ms) in intervals)
        {
            if (string.IsNullOrEmpty(label)) throw new ArgumentException("An interval has no label.", nameof(intervals));
            if (!(ms >= 0) || double.IsInfinity(ms)) throw new ArgumentException($"Interval '{label}' lasted {ms} ms; expected a finite time of at least 0.", nameof(intervals));
            sum += ms;
            if (index.TryGetValue(label, out int i))
                entries[i] = entries[i] with { Milliseconds = entries[i].Milliseconds + ms, Launches = entries[i].Launches + 1 };
            else
            {
                index.Add(label, entries.Count);
                entries.Add(new StepProfileEntry(label, ms, 1));
            }
        }
        if (totalMs is double t && (!(t >= 0) || double.IsInfinity(t)))
            throw new ArgumentOutOfRangeException(nameof(totalMs), t, "Expected a finite time of at least 0.");
        return new StepProfile(entries, totalMs ?? sum);
    }
}

/// <summary>
/// Records a timing event on a stream at the start of a step and after each of its operations, then turns the
/// event-to-event times into a <see cref="StepProfile"/>. Events are created on first use and reused by later steps.
/// </summary>
/// <remarks>
/// An operation's time runs from the end of the previous one to its own end on the stream, so it includes any time the
/// GPU waited for the host to queue it, and each event adds a little time: profile uncaptured steps, and compare totals
/// with graph-replayed steps with that in mind.
/// </remarks>
internal sealed class StepProfiler(CudaStream stream) : IDisposable
{
    private readonly List<CudaEvent> _events = [];
    private readonly List<string> _labels = [];     // _labels[i] ends at _events[i + 1]
    private int _recorded = -1;                     // -1: no step begun

    /// <summary>Starts a step: drops the previous one's labels and records the first event.</summary>
    public void Begin()
    {
        _labels.Clear();
        _recorded = 0;
        Record();
    }

    /// <summary>Ends the interval of the operation just queued.</summary>
    public void Mark(string label)
    {
        if (_recorded < 0) throw new InvalidOperationException("Mark before Begin.");
        _labels.Add(label);
        Record();
    }

    /// <summary>Waits for the step's last event and aggregates the intervals.</summary>
    public StepProfile Finish()
    {
        if (_recorded < 1) throw new InvalidOperationException("No operation was marked since Begin.");
        var last = _events[_recorded - 1];
        last.Synchronize();
        var intervals = new (string, double)[_labels.Count];
        for (int i = 0; i < intervals.Length; i++)
            intervals[i] = (_labels[i], CudaEvent.ElapsedMilliseconds(_events[i], _events[i + 1]));
        double total = CudaEvent.ElapsedMilliseconds(_events[0], last);
        _recorded = -1;
        return StepProfile.Aggregate(intervals, total);
    }

    private void Record()
    {
        if (_recorded == _events.Count) _events.Add(stream.Context.CreateEvent());
        _events[_recorded++].Record(stream);
    }

    public void Dispose()
    {
        foreach (var e in _events) e.Dispose();
        _events.Clear();
    }
}
