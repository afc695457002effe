using System.Text.Json;
using BatchCohort.Runtime.Storage;

namespace BatchCohort.Runtime.Scheduling;

/// <summary>One subject that failed in a night, with the reason a person can act on.</summary>
public sealed record NightFailure(string Id, string? Kind, string Reason);

/// <summary>What publishing the exports did: published (where), failed (why; the next night retries), or skipped.</summary>
public sealed record PublishRecord(string Status, string? Location, string? Error)
{
    public const string Published = "published", Failed = "failed", Skipped = "skipped";
}

/// <summary>
/// One entry of a schedule's run history (&lt;home&gt;/history/&lt;schedule&gt;/&lt;run-id&gt;.json): counts, durations,
/// failures with reasons, what changed since the previous run, whether the exports were published.
/// </summary>
public sealed record NightRecord
{
    public required string ScheduleId { get; init; }
    public required string CohortName { get; init; }
    public required string Cohort { get; init; }
    /// <summary>The cohort run's id (runs/&lt;run-id&gt;.json in the output folder); a generated id when no run started.</summary>
    public required string RunId { get; init; }
    /// <summary>The local date this run was for (null for run-now).</summary>
    public DateOnly? Night { get; init; }
    /// <summary>scheduled or run-now.</summary>
    public required string Trigger { get; init; }
    public required string Outcome { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public double Seconds { get; init; }
    public double MeasureSeconds { get; init; }
    public double PublishSeconds { get; init; }
    public int Total { get; init; }
    /// <summary>Subjects measured in this run (not from the cache), failures included.</summary>
    public int Measured { get; init; }
    public int Cached { get; init; }
    public int Failed { get; init; }
    public IReadOnlyList<string> Added { get; init; } = Array.Empty<string>();
    public IReadOnlyList<string> Changed { get; init; } = Array.Empty<string>();
    public IReadOnlyList<string> Removed { get; init; } = Array.Empty<string>();
    /// <summary>The run this one was compared with (null for the first).</summary>
    public string? PreviousRunId { get; init; }
    public IReadOnlyList<NightFailure> Failures { get; init; } = Array.Empty<NightFailure>();
    public PublishRecord? Publish { get; init; }
    /// <summary>Why the whole run failed (outcome "failed").</summary>
    public string? Error { get; init; }
    /// <summary>delivered, failed: …, or null (no webhook).</summary>
    public string? Webhook { get; init; }
    public string? OutputDirectory { get; init; }

    public string Summary =>
        Outcome == NightOutcome.Failed ? $"failed: {Error}"
        : $"{Total} subjects: {Measured} measured, {Cached} cached, {Failed} failed; +{Added.Count} added, {Changed.Count} changed, -{Removed.Count} removed" +
          (Publish is { Status: PublishRecord.Failed } p ? $"; exports not published: {p.Error}" : "");
}

/// <summary>
/// Schedules of one machine in local files (embedded mode), under a documented folder (see <see cref="DefaultHome"/>):
/// <code>
/// &lt;home&gt;/schedules/&lt;id&gt;.json         the spec (written by schedule add, deleted by schedule remove)
/// &lt;home&gt;/schedules/&lt;id&gt;.state.json   what the scheduler remembers (last night handled, last outcome)
/// &lt;home&gt;/history/&lt;id&gt;/&lt;run-id&gt;.json  one file per run (counts, durations, failures, changes, publish)
/// &lt;home&gt;/serve.lock                    held by the one `batchcohort serve` of this folder
/// </code>
/// Every write is atomic (write then rename), so a kill -9 at any moment leaves each file old or new, never half.
/// </summary>
public sealed class ScheduleStore
{
    public const string HomeVariable = "BATCHCOHORT_HOME";

    public ScheduleStore(string home)
    {
        Home = Path.GetFullPath(home);
    }

    public string Home { get; }
    private string SchedulesDir => Path.Combine(Home, "schedules");
    private string HistoryDir => Path.Combine(Home, "history");
    public string ServeLockPath => Path.Combine(Home, "serve.lock");

    /// <summary>$BATCHCOHORT_HOME, else $XDG_STATE_HOME/batchcohort, else ~/.local/state/batchcohort.</summary>
    public static string DefaultHome()
    {
        var env = Environment.GetEnvironmentVariable(HomeVariable);
        if (!string.IsNullOrWhiteSpace(env)) return env;
        var xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg)) return Path.Combine(xdg, "batchcohort");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "batchcohort");
    }

    private string SpecPath(string id) => Path.Combine(SchedulesDir, id + ".json");
    private string StatePath(string id) => Path.Combine(SchedulesDir, id + ".state.json");

    public void Add(ScheduleSpec spec)
    {
        if (File.Exists(SpecPath(spec.Id))) throw new ArgumentException($"schedule {spec.Id} exists already");
        Json.WriteFile(SpecPath(spec.Id), spec);
    }

    public bool Remove(string id)
    {
        CheckId(id);
        if (!File.Exists(SpecPath(id))) return false;
        File.Delete(SpecPath(id));
        if (File.Exists(StatePath(id))) File.Delete(StatePath(id));
        return true;
    }

    public IReadOnlyList<ScheduleSpec> List()
    {
        if (!Directory.Exists(SchedulesDir)) return Array.Empty<ScheduleSpec>();
        var list = new List<ScheduleSpec>();
        foreach (var f in Directory.EnumerateFiles(SchedulesDir, "*.json"))
        {
            if (f.EndsWith(".state.json", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith('.')) continue;
            var s = TryRead<ScheduleSpec>(f);
            if (s is not null) list.Add(s);
        }
        return list.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal).ToList();
    }

    public ScheduleSpec? Get(string id)
    {
        CheckId(id);
        return TryRead<ScheduleSpec>(SpecPath(id));
    }

    public ScheduleState LoadState(string id) => TryRead<ScheduleState>(StatePath(id)) ?? new ScheduleState();

    /// <summary>Saves the scheduler's memory of a schedule, unless the schedule was removed meanwhile.</summary>
    public void SaveState(string id, ScheduleState state)
    {
        if (!File.Exists(SpecPath(id))) return;
        Json.WriteFile(StatePath(id), state);
    }

    public void Record(NightRecord r) => Json.WriteFile(Path.Combine(HistoryDir, r.ScheduleId, r.RunId + ".json"), r);

    /// <summary>The history of a schedule, newest first.</summary>
    public IReadOnlyList<NightRecord> History(string id, int max = 50)
    {
        var dir = Path.Combine(HistoryDir, id);
        if (!Directory.Exists(dir)) return Array.Empty<NightRecord>();
        return Directory.EnumerateFiles(dir, "*.json")
            .Where(f => !Path.GetFileName(f).StartsWith('.'))
            .Select(TryRead<NightRecord>).OfType<NightRecord>()
            .OrderByDescending(r => r.StartedAt).Take(max).ToList();
    }

    /// <summary>A new id: the cohort name (letters, digits, '-') and 4 hex digits, e.g. demo-3fa2.</summary>
    public string NewId(string cohortName)
    {
        while (true)
        {
            var id = NewIdFor(cohortName);
            if (!File.Exists(SpecPath(id))) return id;
        }
    }

    /// <summary>A candidate id for a cohort (the caller checks it is not taken).</summary>
    public static string NewIdFor(string cohortName)
    {
        var slug = new string(cohortName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        if (slug.Length == 0) slug = "cohort";
        if (slug.Length > 32) slug = slug[..32].TrimEnd('-');
        return $"{slug}-{Guid.NewGuid().ToString("N")[..4]}";
    }

    private static void CheckId(string id)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_')))
            throw new ArgumentException($"'{id}' is not a schedule id (see `batchcohort schedule list`)");
    }

    private static T? TryRead<T>(string path) where T : class
    {
        try { return File.Exists(path) ? JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Json.Options) : null; }
        catch (JsonException) { return null; }
        catch (IOException) { return null; }
    }
}
