using BatchCohort.Contracts;

namespace BatchCohort.Runtime.Coordination;

/// <summary>
/// What a client shows while a run measures: the latest counts (polled from the coordinator) and each failure once.
/// Events are raised on the thread that calls <see cref="Update"/>.
/// </summary>
public sealed class RunProgressFeed
{
    private readonly object _lock = new();
    private CohortProgress _last;

    public RunProgressFeed(string runId, CohortProgress initial)
    {
        RunId = runId;
        _last = initial;
    }

    public string RunId { get; }

    /// <summary>Called after every change (the CLI redraws its progress bar).</summary>
    public event Action<CohortProgress>? Progress;

    /// <summary>Called once per failure with the subject id and the reason.</summary>
    public event Action<string, string>? SubjectFailedNotice;

    public CohortProgress Snapshot() { lock (_lock) return _last; }

    public static CohortProgress ToProgress(RunProgress p) =>
        new(p.Total, p.Done, p.Cached, p.Failed, p.Running, p.Pending, TimeSpan.FromSeconds(p.ElapsedSeconds),
            p.EtaSeconds is { } e ? TimeSpan.FromSeconds(e) : null);

    public void Update(RunProgress p)
    {
        var next = ToProgress(p);
        bool changed;
        lock (_lock)
        {
            changed = next with { Elapsed = default, Eta = default } != _last with { Elapsed = default, Eta = default };
            _last = next;
        }
        foreach (var f in p.NewFailures) SubjectFailedNotice?.Invoke(f.SubjectId, f.Reason);
        if (changed) Progress?.Invoke(next);
    }
}
