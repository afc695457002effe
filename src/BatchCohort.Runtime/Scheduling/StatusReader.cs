using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Coordination;

namespace BatchCohort.Runtime.Scheduling;

public sealed record ScheduleView(
    string Id, string CohortName, string Cohort, string At, string TimeZone, string Mode,
    DateTimeOffset? NextRun, DateOnly? LastNight, string? LastRunId, string? LastOutcome, string? LastSummary,
    string? Webhook, IReadOnlyList<string> Notes, string? Problem);

public sealed record SubjectView(string Id, string Label, string Status, string? Reason, double? Seconds, int Attempts, bool FromCache, string? Qc);

public sealed record RunView(
    string ScheduleId, string CohortName, string RunId,
    /// <summary>running, finished, failed or interrupted.</summary>
    string Status,
    /// <summary>The engine's status (measuring, grouping, completed, interrupted) and the nightly outcome when recorded.</summary>
    string EngineStatus, string? Outcome,
    DateTimeOffset StartedAt, DateTimeOffset? FinishedAt,
    int Total, int Done, int Cached, int Failed, int Running, int Pending,
    string? Report, string? Publish, IReadOnlyList<string> Changes, IReadOnlyList<SubjectView> Subjects)
{
    public int Percent => Total == 0 ? 100 : (int)Math.Floor(100.0 * (Done + Failed) / Total);
}

public sealed record StatusSnapshot(DateTimeOffset GeneratedAt, string Home, IReadOnlyList<ScheduleView> Schedules, IReadOnlyList<RunView> Runs);

/// <summary>
/// Everything the status page and its JSON endpoint show, read from files only: the schedules and their memory
/// (<see cref="ScheduleStore"/>), each scheduled cohort's runs/state.json (persisted by the coordinator after every
/// subject, so progress is live, whichever process runs it) and runs/&lt;run-id&gt;.json records, and the schedules'
/// history (publish outcome, what changed). Links are relative to the site: /files/&lt;schedule&gt;/… serves the
/// cohort's output folder.
/// </summary>
public sealed class StatusReader(ScheduleStore store, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public StatusSnapshot Read(int maxRunsPerCohort = 10)
    {
        var now = _time.GetUtcNow();
        var schedules = new List<ScheduleView>();
        var runs = new List<RunView>();
        var seenOutputs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in store.List())
        {
            var state = store.LoadState(spec.Id);
            string? problem = null;
            DateTimeOffset? next = null;
            try { next = ScheduleRules.NextRun(spec, state, now); }
            catch (ArgumentException e) { problem = e.Message; }
            string? outDir = null, location = null;
            try { var m = CohortManifest.Load(spec.Cohort); outDir = m.OutputDirectory; location = m.OutputLocation; }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { problem ??= e.Message.ReplaceLineEndings(" "); }
            schedules.Add(new ScheduleView(spec.Id, spec.CohortName, spec.Cohort, spec.At, spec.TimeZone, spec.Cluster is null ? "embedded" : "cluster",
                next, state.LastNight, state.LastRunId, state.LastOutcome, state.LastSummary,
                spec.Webhook is null ? null : Webhook.Redact(spec.Webhook), state.Notes.TakeLast(5).ToList(), problem));
            if (outDir is null || !seenOutputs.Add(outDir)) continue;
            runs.AddRange(RunsOf(spec, outDir, location, maxRunsPerCohort));
        }
        var ordered = runs.OrderByDescending(r => r.Status == "running").ThenByDescending(r => r.StartedAt).ToList();
        return new StatusSnapshot(now, store.Home, schedules, ordered);
    }

    public RunView? Run(string scheduleId, string runId) =>
        Read(int.MaxValue).Runs.FirstOrDefault(r => r.ScheduleId == scheduleId && r.RunId == runId);

    private IEnumerable<RunView> RunsOf(ScheduleSpec spec, string outDir, string? location, int max)
    {
        var history = store.History(spec.Id, 200).GroupBy(h => h.RunId).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var states = new Dictionary<string, RunState>(StringComparer.Ordinal);
        var runsDir = Path.Combine(outDir, "runs");
        // a blob output: the runs as the output holds them (whichever machine ran them); the staging folder when it cannot be read
        IReadOnlyList<RunState>? remote = null;
        if (Storage.StorageLocation.IsRemote(location))
        {
            try { remote = Storage.OutputRuns.ReadAsync(location!).GetAwaiter().GetResult(); }
            catch (Storage.StorageException) { }
        }
        if (remote is not null)
            foreach (var s in remote) states[s.RunId] = s;
        else if (Directory.Exists(runsDir))
        {
            foreach (var f in Directory.EnumerateFiles(runsDir, "*.json"))
            {
                var name = Path.GetFileName(f);
                if (name.StartsWith("settings-", StringComparison.Ordinal) || name.StartsWith('.')) continue;
                var s = RunState.TryLoad(f);
                // state.json is the newest word on the open (or last) run
                if (s is not null && (name == "state.json" || !states.ContainsKey(s.RunId))) states[s.RunId] = s;
            }
        }
        var latestCompleted = states.Values.Where(s => s.Status == RunState.Completed).OrderByDescending(s => s.StartedAt).FirstOrDefault()?.RunId;
        var views = states.Values.OrderByDescending(s => s.StartedAt).Take(max)
            .Select(s => View(spec, outDir, s, history.GetValueOrDefault(s.RunId), s.RunId == latestCompleted)).ToList();
        // nights that failed before a run started (e.g. the manifest broke) have only a history record
        foreach (var h in history.Values.Where(h => !states.ContainsKey(h.RunId)).OrderByDescending(h => h.StartedAt).Take(max))
            views.Add(new RunView(spec.Id, spec.CohortName, h.RunId, "failed", "not started", h.Outcome, h.StartedAt, h.FinishedAt,
                0, 0, 0, 0, 0, 0, null, null, new[] { h.Error ?? "failed" }, Array.Empty<SubjectView>()));
        return views;
    }

    private static RunView View(ScheduleSpec spec, string outDir, RunState s, NightRecord? h, bool latestCompleted) =>
        View(spec.Id, spec.CohortName, outDir, s, h, latestCompleted);

    /// <summary>One run as the page shows it (also used for a cluster's runs, whose state comes from the grains).</summary>
    public static RunView View(string scheduleId, string cohortName, string outDir, RunState s, NightRecord? h, bool latestCompleted)
    {
        int done = 0, cached = 0, failed = 0, running = 0, pending = 0;
        var subjects = new List<SubjectView>(s.Subjects.Count);
        foreach (var x in s.Subjects)
        {
            switch (x.Status)
            {
                case SubjectStatus.Done: done++; if (x.FromCache) cached++; break;
                case SubjectStatus.Failed: failed++; break;
                case SubjectStatus.Running: running++; break;
                default: pending++; break;
            }
            var qcRel = $"sub-{x.Label}/anat/sub-{x.Label}_qc.png";
            subjects.Add(new SubjectView(x.Id, x.Label, x.Status.ToString().ToLowerInvariant(), x.Reason, x.Seconds, x.Attempts, x.FromCache,
                x.Status == SubjectStatus.Done && File.Exists(Path.Combine(outDir, qcRel)) ? $"/files/{scheduleId}/{qcRel}" : null));
        }
        string status = s.Status switch
        {
            RunState.Measuring or RunState.Grouping => "running",
            RunState.Interrupted => "interrupted",
            _ => h is not null && h.Outcome is NightOutcome.Failed or NightOutcome.PublishFailed ? "failed" : "finished",
        };
        string? report = null;
        if (latestCompleted && File.Exists(Path.Combine(outDir, "group", "report.html"))) report = $"/files/{scheduleId}/group/report.html";
        
        var changes = new List<string>();
        if (h is not null)
        {
            if (h.Added.Count > 0) changes.Add($"added: {string.Join(", ", h.Added)}");
            if (h.Changed.Count > 0) changes.Add($"changed: {string.Join(", ", h.Changed)}");
            if (h.Removed.Count > 0) changes.Add($"removed: {string.Join(", ", h.Removed)}");
        }
        string? publish = h?.Publish is { } p ? (p.Status == PublishRecord.Failed ? $"failed: {p.Error}" : p.Status) : null;
        return new RunView(scheduleId, cohortName, s.RunId, status, s.Status, h?.Outcome, s.StartedAt, s.FinishedAt,
            s.Subjects.Count, done, cached, failed, running, pending, report, publish, changes, subjects);
    }
}

/// <summary>
/// Where the status site gets its data: this machine's files (<see cref="FileStatusSource"/>, <c>batchcohort serve</c>)
/// or a cluster's grains (<c>batchcohort silo --http</c>).
/// </summary>
public interface IStatusSource
{
    Task<StatusSnapshot> ReadAsync(CancellationToken ct);

    Task<RunView?> RunAsync(string scheduleId, string runId, CancellationToken ct);

    /// <summary>The schedule's cohort output folder (for its reports and QC pictures), or null when there is no such schedule.</summary>
    Task<string?> OutputDirectoryAsync(string scheduleId, CancellationToken ct);

    Task<bool> HasScheduleAsync(string scheduleId, CancellationToken ct);
}

/// <summary>The status of one machine's schedules, from files (embedded mode).</summary>
public sealed class FileStatusSource(ScheduleStore store, TimeProvider? time = null) : IStatusSource
{
    private readonly StatusReader _reader = new(store, time);

    public Task<StatusSnapshot> ReadAsync(CancellationToken ct) => Task.FromResult(_reader.Read());

    public Task<RunView?> RunAsync(string scheduleId, string runId, CancellationToken ct) => Task.FromResult(_reader.Run(scheduleId, runId));

    public Task<string?> OutputDirectoryAsync(string scheduleId, CancellationToken ct)
    {
        if (store.Get(scheduleId) is not { } spec) return Task.FromResult<string?>(null);
        try { return Task.FromResult<string?>(CohortManifest.Load(spec.Cohort).OutputDirectory); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return Task.FromResult<string?>(null); }
    }

    public Task<bool> HasScheduleAsync(string scheduleId, CancellationToken ct) => Task.FromResult(store.Get(scheduleId) is not null);
}

/// <summary>
/// A cluster schedule as its grain describes it (what <c>schedule list --cluster</c> and the silo's status page show):
/// the schedule, what its grain remembers, the next run by the rules, the run going now, and its recent history.
/// It crosses the wire as JSON (the same documents as the embedded files).
/// </summary>
public sealed record ScheduleInfo
{
    public required ScheduleSpec Spec { get; init; }
    public required ScheduleState State { get; init; }
    public DateTimeOffset? NextRun { get; init; }
    /// <summary>The run this schedule started and is following (not finished yet), or null.</summary>
    public string? RunningRunId { get; init; }
    /// <summary>Newest first.</summary>
    public IReadOnlyList<NightRecord> History { get; init; } = Array.Empty<NightRecord>();
    public string? Problem { get; init; }
}
