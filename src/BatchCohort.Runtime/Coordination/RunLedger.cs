using System.Diagnostics;
using BatchCohort.Contracts;
using BatchCohort.Runtime.Measurement;

namespace BatchCohort.Runtime.Coordination;

/// <summary>Counts shown while a run measures.</summary>
public sealed record CohortProgress(int Total, int Done, int Cached, int Failed, int Running, int Pending, TimeSpan Elapsed, TimeSpan? Eta)
{
    public int Remaining => Pending + Running;
}

/// <summary>
/// The coordinator's rules over a run's state, free of any transport (the cohort-run grain persists it and calls
/// these): lease pending subjects to a silo, apply subject reports (duplicates, stale attempts and reports of other
/// runs are ignored — delivery is at-least-once), put back the subjects of a silo that died, retry a failure that may
/// be the silo's at most <see cref="RunState.MaxAttempts"/> times, and say when nothing is pending or running.
/// Not thread-safe: a grain's turns are serial.
/// </summary>
public sealed class RunLedger
{
    public const int DefaultMaxAttempts = 3;
    /// <summary>How long a failed subject waits for another silo to take it before its own silo may take it again.</summary>
    public static readonly TimeSpan RetryElsewhereFor = TimeSpan.FromSeconds(2);

    private readonly RunState _state;
    private readonly Dictionary<string, SubjectState> _byId;
    private readonly Dictionary<string, int> _index;
    /// <summary>No subject before this index is pending (leases scan from here, not from the first subject).</summary>
    private int _scanFrom;
    private readonly HashSet<SubjectState> _changed = new(ReferenceEqualityComparer.Instance);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<FailureNotice> _failures = new();
    private int _finishedThisSession;

    public RunLedger(RunState state)
    {
        _state = state;
        _byId = state.Subjects.ToDictionary(s => s.Id, StringComparer.Ordinal);
        _index = new Dictionary<string, int>(state.Subjects.Count, StringComparer.Ordinal);
        for (int i = 0; i < state.Subjects.Count; i++) _index[state.Subjects[i].Id] = i;
    }

    /// <summary>The subjects changed since the last call, each once (what the coordinator's journal write must hold).</summary>
    public IReadOnlyList<SubjectState> TakeChanges()
    {
        if (_changed.Count == 0) return Array.Empty<SubjectState>();
        var list = _changed.ToList();
        _changed.Clear();
        return list;
    }

    private void Touch(SubjectState s)
    {
        _changed.Add(s);
        if (s.Status == SubjectStatus.Pending && _index.TryGetValue(s.Id, out var i) && i < _scanFrom) _scanFrom = i;
    }

    public RunState State => _state;

    /// <summary>Failures in the order they happened (this activation), for progress followers.</summary>
    public IReadOnlyList<FailureNotice> Failures => _failures;

    public bool Settled => _state.Subjects.All(s => s.Status is SubjectStatus.Done or SubjectStatus.Failed);

    /// <summary>Up to <paramref name="count"/> pending subjects, in manifest order, marked running on <paramref name="silo"/>.</summary>
    public IReadOnlyList<SubjectState> Lease(string silo, int count, DateTimeOffset now)
    {
        var leased = new List<SubjectState>();
        if (count <= 0) return leased;
        var all = _state.Subjects;
        bool prefix = true;   // every subject before i is not pending
        for (int i = _scanFrom; i < all.Count; i++)
        {
            var s = all[i];
            if (s.Status != SubjectStatus.Pending) { if (prefix) _scanFrom = i + 1; continue; }
            prefix = false;
            if (s.AvoidSilo == silo && s.NotBefore > now) continue;
            _changed.Add(s);
            s.Status = SubjectStatus.Running;
            s.Worker = silo;
            s.StartedAt = now;
            s.FinishedAt = null;
            s.Attempts++;
            leased.Add(s);
            if (leased.Count == count) break;
        }
        return leased;
    }

    /// <summary>Applies a report; true when it changed the state.</summary>
    public bool Apply(SubjectReport r, DateTimeOffset now)
    {
        if (r.RunId != _state.RunId || !_byId.TryGetValue(r.SubjectId, out var s)) return false;
        if (s.Status == SubjectStatus.Done) return false;
        if (r.Outcome == SubjectOutcome.Measured)
        {
            // a written result is the truth whichever attempt wrote it (the cache key makes every attempt's result equal)
            s.Status = SubjectStatus.Done;
            s.CacheKey = r.CacheKey;
            s.FromCache = r.FromCache;
            s.Reason = null;
            s.FailureKind = null;
            s.FinishedAt = now;
            s.Seconds = Math.Round(r.Seconds, 3);
            s.Worker = r.Silo;
            s.AvoidSilo = null;
            s.NotBefore = null;
            if (!r.FromCache) _finishedThisSession++;
            Touch(s);
            return true;
        }
        if (s.Status == SubjectStatus.Failed) return false;
        // a failure of an older attempt while a newer one runs elsewhere says nothing about the newer one
        if (s.Status == SubjectStatus.Running && r.Attempt != s.Attempts) return false;
        var kind = r.FailureKind ?? FailureKinds.Internal;
        var reason = r.Reason ?? "unknown failure";
        bool retry = IsRetryable(kind) && s.Attempts < _state.MaxAttempts && _state.Status == RunState.Measuring;
        s.CacheKey = r.CacheKey;
        s.Seconds = Math.Round(r.Seconds, 3);
        s.Worker = r.Silo;
        if (retry)
        {
            s.Status = SubjectStatus.Pending;
            s.FailureKind = kind;
            s.Reason = reason;
            s.AvoidSilo = r.Silo;
            s.NotBefore = now + RetryElsewhereFor;
            s.StartedAt = null;
            Touch(s);
            return true;
        }
        s.Status = SubjectStatus.Failed;
        s.FailureKind = kind;
        s.Reason = s.Attempts > 1 && IsRetryable(kind) ? $"{reason} (failed {s.Attempts} times)" : reason;
        s.FinishedAt = now;
        _finishedThisSession++;
        _failures.Add(new FailureNotice(s.Id, s.Reason));
        Touch(s);
        return true;
    }

    /// <summary>Subjects running on a silo that is gone go back to pending (or fail after too many attempts). Returns how many.</summary>
    public int Requeue(Func<string, bool> siloIsGone, DateTimeOffset now)
    {
        int n = 0;
        foreach (var s in _state.Subjects)
        {
            if (s.Status != SubjectStatus.Running || s.Worker is null || !siloIsGone(s.Worker)) continue;
            RequeueOne(s, $"its silo {s.Worker} stopped", now);
            n++;
        }
        return n;
    }

    /// <summary>One running subject whose work is known to be lost (its grain has no record of it).</summary>
    public bool Requeue(string subjectId, int attempt, string why, DateTimeOffset now)
    {
        if (!_byId.TryGetValue(subjectId, out var s) || s.Status != SubjectStatus.Running || s.Attempts != attempt) return false;
        RequeueOne(s, why, now);
        return true;
    }

    private void RequeueOne(SubjectState s, string why, DateTimeOffset now)
    {
        if (s.Attempts >= _state.MaxAttempts && _state.Status == RunState.Measuring)
        {
            s.Status = SubjectStatus.Failed;
            s.FailureKind = FailureKinds.Internal;
            s.Reason = $"gave up after {s.Attempts} attempts: {why}";
            s.FinishedAt = now;
            _finishedThisSession++;
            _failures.Add(new FailureNotice(s.Id, s.Reason));
            Touch(s);
            return;
        }
        s.Status = SubjectStatus.Pending;
        s.StartedAt = null;
        s.Worker = null;
        Touch(s);
    }

    /// <summary>Interrupted or cancelled: subjects being measured go back to pending (they are redone on resume).</summary>
    public void Stop(string status)
    {
        foreach (var s in _state.Subjects)
            if (s.Status == SubjectStatus.Running) { s.Status = SubjectStatus.Pending; s.StartedAt = null; s.Worker = null; Touch(s); }
        _state.Status = status;
    }

    public CohortProgress Snapshot()
    {
        int done = 0, cached = 0, failed = 0, running = 0, pending = 0;
        foreach (var s in _state.Subjects)
        {
            switch (s.Status)
            {
                case SubjectStatus.Done: done++; if (s.FromCache) cached++; break;
                case SubjectStatus.Failed: failed++; break;
                case SubjectStatus.Running: running++; break;
                default: pending++; break;
            }
        }
        var elapsed = _clock.Elapsed;
        TimeSpan? eta = null;
        int remaining = pending + running;
        if (remaining == 0) eta = TimeSpan.Zero;
        else if (_finishedThisSession > 0) eta = TimeSpan.FromSeconds(elapsed.TotalSeconds / _finishedThisSession * remaining);
        return new CohortProgress(_state.Subjects.Count, done, cached, failed, running, pending, elapsed, eta);
    }

    /// <summary>Failures of kinds that say something about the input are final at once; others may be the silo's.</summary>
    public static bool IsRetryable(string kind) => kind is not (FailureKinds.InputMissing or FailureKinds.InputUnreadable);
}
