using MarlinSharp.Models.Engine;

namespace MarlinSharp.Cli.Engine;

/// <summary>The <c>bench e2e --profile</c> output of one point: a table on stdout and the JSON figures.</summary>
internal static class E2eProfileReport
{
    /// <summary>Writes the step's GPU time per operation (ms per step, percent of the step, launches) under a heading that sets the graph-free total against the measured time per token.</summary>
    public static void Write(TextWriter w, E2ePoint point)
    {
        ArgumentNullException.ThrowIfNull(w);
        var profile = point.Profile ?? throw new ArgumentException("The point has no profile.", nameof(point));
        double total = profile.TotalMs;
        string Percent(double ms) => total > 0 ? $"{100 * ms / total,6:F1}%" : $"{"-",7}";
        w.WriteLine($"{E2eBenchmark.Name(point.Format)} batch {point.Batch}: one decode step without CUDA graphs takes {total:F3} ms of GPU time " +
                    $"(event after every op) against {point.MsPerToken:F3} ms/token measured ({total / point.MsPerToken:F2}x)");
        if (point.BackToBackMs is double b2b)
            w.WriteLine($"  steps queued back to back, tokens not read back: {b2b:F3} ms/step (the host adds {point.MsPerToken - b2b:F3} ms per step)");
        if (point.ChainedBackToBackMs is double cb)
            w.WriteLine($"  chained steps queued back to back (input tokens taken on the GPU), tokens not read back: {cb:F3} ms/step");
        if (point.Chained is { } c)
            w.WriteLine($"  pipelined steps at a fixed position: {c.MsPerStep:F3} ms/step (host: {c.QueueMs:F3} ms queueing the next, {c.WaitMs:F3} ms waiting for the last)");
        w.WriteLine($"  {"op",-16} {"ms/step",9} {"share",7} {"launches",8}");
        foreach (var e in profile.Entries)
            w.WriteLine($"  {e.Label,-16} {e.Milliseconds,9:F3} {Percent(e.Milliseconds)} {e.Launches,8}");
        w.WriteLine($"  {"total",-16} {profile.SumMs,9:F3} {Percent(profile.SumMs)} {profile.Launches,8}");
    }

    /// <summary>The per-operation figures for the JSON report: [{label, ms, launches}] in step order.</summary>
    public static object[] Json(StepProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return [.. profile.Entries.Select(e => (object)new { label = e.Label, ms = e.Milliseconds, launches = e.Launches })];
    }
}
