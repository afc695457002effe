using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Storage;

namespace BatchCohort.Runtime.Scheduling;

/// <summary>
/// What one scheduled run does: run the cohort through the engine (which re-discovers the inputs, measures only new or
/// changed subjects — the cache finds the rest — and reruns the group stage on the whole cohort), publish the exports,
/// record the run in the schedule's history (counts, durations, failures with reasons, what changed since the previous
/// run) and POST a summary to the schedule's webhook. A failure at any step is recorded, never thrown: the next night
/// runs regardless. A subject that fails is named in the record; the others are measured as usual.
/// Embedded mode runs it whole (<see cref="RunAsync"/>, history in the <see cref="ScheduleStore"/>); a cluster's schedule
/// grain starts the run itself and calls <see cref="CompleteAsync"/> when the run has ended (history in grain state).
/// </summary>
public sealed class NightlyJob(ScheduleStore? store, IRunLauncher? launcher, IExportPublisher publisher, TimeProvider? time = null, HttpClient? http = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private static readonly HttpClient DefaultHttp = new() { Timeout = TimeSpan.FromSeconds(10) };

    public const string Scheduled = "scheduled", RunNow = "run-now";

    /// <summary>Runs it to the end. Throws only <see cref="RunAlreadyGoingException"/> (nothing was done) and cancellation.</summary>
    public async Task<NightRecord> RunAsync(ScheduleSpec spec, DateOnly? night, string trigger, CancellationToken ct)
    {
        if (launcher is null) throw new InvalidOperationException("this nightly job has no run launcher");
        var started = _time.GetUtcNow();
        var total = Stopwatch.StartNew();
        LaunchedRun launched;
        string? outDir = null;
        try
        {
            outDir = CohortManifest.Load(spec.Cohort).OutputDirectory;
            launched = await launcher.RunAsync(new RunRequest(spec.Cohort, spec.Jobs), ct);
        }
        catch (RunAlreadyGoingException) { throw; }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception e)
        {
            return await Finish(spec, Failed(spec, night, trigger, started, Seconds.Of(total), e.Message, outDir), ct);
        }
        if (launched.Interrupted) ct.ThrowIfCancellationRequested();
        var rec = await CompleteAsync(spec, night, trigger, started, launched.State, launched.OutputDirectory, Seconds.Of(total), ct);
        return await Finish(spec, rec with { Seconds = Seconds.Of(total) }, ct);
    }

    /// <summary>The record of a night whose run could not be started (e.g. the manifest broke): outcome failed.</summary>
    public NightRecord Failed(ScheduleSpec spec, DateOnly? night, string trigger, DateTimeOffset started, double seconds, string error, string? outputDirectory) => new()
    {
        ScheduleId = spec.Id, CohortName = spec.CohortName, Cohort = spec.Cohort, Night = night, Trigger = trigger,
        RunId = RunState.NewRunId(started), Outcome = NightOutcome.Failed, StartedAt = started, FinishedAt = _time.GetUtcNow(),
        Seconds = seconds, Error = OneLine(error), OutputDirectory = outputDirectory,
    };

    /// <summary>
    /// After the engine's run ended: what changed since the previous completed run, the exports published (through
    /// <see cref="IExportPublisher"/>; a failure is recorded as publish-failed, the measurements stay), the outcome, and
    /// the webhook. Returns the record; the caller keeps it (files in embedded mode, grain state in a cluster).
    /// </summary>
    public async Task<NightRecord> CompleteAsync(ScheduleSpec spec, DateOnly? night, string trigger, DateTimeOffset started, RunState state,
        string outputDirectory, double measureSeconds, CancellationToken ct)
    {
        // what changed since the previous completed run of this cohort
        var previous = PreviousRun(outputDirectory, state.RunId);
        var prev = previous?.Subjects.ToDictionary(s => s.Id, StringComparer.Ordinal) ?? new Dictionary<string, SubjectState>(StringComparer.Ordinal);
        var cur = state.Subjects.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var added = previous is null ? new List<string>() : cur.Keys.Where(k => !prev.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var removed = prev.Keys.Where(k => !cur.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var changed = cur.Values.Where(s => prev.TryGetValue(s.Id, out var p) && p.CacheKey is not null && s.CacheKey is not null && p.CacheKey != s.CacheKey)
            .Select(s => s.Id).Order(StringComparer.Ordinal).ToList();

        // publish: the schedule's --export, else the cohort's export location, else <output>/exports
        var pubWatch = Stopwatch.StartNew();
        PublishRecord publish;
        if (state.Status != RunState.Completed)
            publish = new PublishRecord(PublishRecord.Skipped, null, $"the run ended {state.Status}");
        else
        {
            string? manifestExports = null;
            try { manifestExports = CohortManifest.Load(spec.Cohort).ExportLocation; }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { }
            var dest = spec.Export ?? manifestExports ?? Path.Combine(outputDirectory, "exports");
            try { publish = new PublishRecord(PublishRecord.Published, await publisher.PublishAsync(new PublishRequest(outputDirectory, dest, state), ct), null); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
            catch (Exception e) { publish = new PublishRecord(PublishRecord.Failed, Storage.StorageLocation.Redact(dest), OneLine(e.Message)); }
        }

        var failures = state.Subjects.Where(s => s.Status == SubjectStatus.Failed)
            .Select(s => new NightFailure(s.Id, s.FailureKind, s.Reason ?? "unknown")).ToList();
        string outcome = state.Status != RunState.Completed ? NightOutcome.Failed
            : publish.Status == PublishRecord.Failed ? NightOutcome.PublishFailed
            : failures.Count > 0 ? NightOutcome.Failures
            : NightOutcome.Succeeded;
        var finished = _time.GetUtcNow();
        var record = new NightRecord
        {
            ScheduleId = spec.Id, CohortName = spec.CohortName, Cohort = spec.Cohort, Night = night, Trigger = trigger,
            RunId = state.RunId, Outcome = outcome, StartedAt = started, FinishedAt = finished,
            Seconds = Math.Round((finished - started).TotalSeconds, 3), MeasureSeconds = measureSeconds, PublishSeconds = Seconds.Of(pubWatch),
            Total = state.Subjects.Count,
            Measured = state.Subjects.Count(s => s.Status == SubjectStatus.Done && !s.FromCache),
            Cached = state.Subjects.Count(s => s.Status == SubjectStatus.Done && s.FromCache),
            Failed = failures.Count,
            Added = added, Changed = changed, Removed = removed, PreviousRunId = previous?.RunId,
            Failures = failures, Publish = publish, OutputDirectory = outputDirectory,
            Error = state.Status != RunState.Completed ? $"the run ended {state.Status}" : null,
        };
        return await NotifyAsync(spec, record, ct);
    }

    /// <summary>POSTs the summary to the schedule's webhook (if any) and returns the record with the delivery noted.</summary>
    public async Task<NightRecord> NotifyAsync(ScheduleSpec spec, NightRecord record, CancellationToken ct) =>
        spec.Webhook is { } url && record.Webhook is null ? record with { Webhook = await Webhook.PostAsync(http ?? DefaultHttp, url, Summary(record), ct) } : record;

    private async Task<NightRecord> Finish(ScheduleSpec spec, NightRecord record, CancellationToken ct)
    {
        record = await NotifyAsync(spec, record, ct);
        store?.Record(record);
        return record;
    }

    /// <summary>The small JSON summary a webhook receives.</summary>
    public static JsonObject Summary(NightRecord r) => new()
    {
        ["event"] = "batchcohort.run.finished",
        ["schedule"] = r.ScheduleId,
        ["cohort"] = r.CohortName,
        ["runId"] = r.RunId,
        ["night"] = r.Night?.ToString("yyyy-MM-dd"),
        ["trigger"] = r.Trigger,
        ["outcome"] = r.Outcome,
        ["startedAt"] = r.StartedAt.ToString("O"),
        ["finishedAt"] = r.FinishedAt.ToString("O"),
        ["seconds"] = r.Seconds,
        ["subjects"] = new JsonObject { ["total"] = r.Total, ["measured"] = r.Measured, ["cached"] = r.Cached, ["failed"] = r.Failed },
        ["changes"] = new JsonObject { ["added"] = r.Added.Count, ["changed"] = r.Changed.Count, ["removed"] = r.Removed.Count },
        ["failures"] = new JsonArray(r.Failures.Take(20).Select(f => (JsonNode)new JsonObject { ["id"] = f.Id, ["reason"] = f.Reason }).ToArray()),
        ["publish"] = r.Publish is null ? null : new JsonObject { ["status"] = r.Publish.Status, ["error"] = r.Publish.Error },
        ["error"] = r.Error,
    };

    /// <summary>The newest completed run record of the output folder other than <paramref name="exceptRunId"/>.</summary>
    public static RunState? PreviousRun(string outputDirectory, string exceptRunId)
    {
        var dir = Path.Combine(outputDirectory, "runs");
        if (!Directory.Exists(dir)) return null;
        return Directory.EnumerateFiles(dir, "*.json")
            .Where(f => !Path.GetFileName(f).StartsWith("settings-", StringComparison.Ordinal) && Path.GetFileName(f) != "state.json")
            .Select(RunState.TryLoad).OfType<RunState>()
            .Where(r => r.RunId != exceptRunId && r.Status == RunState.Completed)
            .OrderByDescending(r => r.StartedAt).FirstOrDefault();
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}

/// <summary>POSTs a schedule's JSON summary. Never throws: the outcome is recorded in the history.</summary>
public static class Webhook
{
    public static async Task<string> PostAsync(HttpClient http, string url, JsonObject body, CancellationToken ct)
    {
        try
        {
            using var content = JsonContent.Create(body, options: Json.Options);
            using var resp = await http.PostAsync(url, content, ct);
            return resp.IsSuccessStatusCode ? "delivered" : $"failed: HTTP {(int)resp.StatusCode}";
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or JsonException)
        {
            return $"failed: {(e is TaskCanceledException ? "timed out" : e.Message.ReplaceLineEndings(" "))}";
        }
    }

    /// <summary>The URL without path, query or credentials, for printing (a webhook URL often carries a secret).</summary>
    public static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) ? $"{u.Scheme}://{u.Host}{(u.IsDefaultPort ? "" : ":" + u.Port)}/…" : "(invalid url)";
}
