using System.Text.Json;
using System.Text.Json.Serialization;
using BatchCohort.Runtime.Storage;

namespace BatchCohort.Runtime.Coordination;

/// <summary>
/// What one subject's record says after a change (a lease, a report, a put-back): every field of
/// <see cref="SubjectState"/> that changes during a run. Id, label and input never change and are not repeated.
/// </summary>
/// <remarks>Nulls are left out of the JSON (a journal is rewritten at every lease: every byte counts).</remarks>
public sealed record SubjectDelta(
    string Id, SubjectStatus Status, int Attempts,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Worker,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? StartedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? FinishedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CacheKey = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool FromCache = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Seconds = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FailureKind = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AvoidSilo = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? NotBefore = null)
{
    public static SubjectDelta Of(SubjectState s) =>
        new(s.Id, s.Status, s.Attempts, s.Worker, s.StartedAt, s.FinishedAt, s.CacheKey, s.FromCache, s.Seconds, s.FailureKind, s.Reason, s.AvoidSilo, s.NotBefore);

    public void ApplyTo(SubjectState s)
    {
        s.Status = Status;
        s.Attempts = Attempts;
        s.Worker = Worker;
        s.StartedAt = StartedAt;
        s.FinishedAt = FinishedAt;
        s.CacheKey = CacheKey;
        s.FromCache = FromCache;
        s.Seconds = Seconds;
        s.FailureKind = FailureKind;
        s.Reason = Reason;
        s.AvoidSilo = AvoidSilo;
        s.NotBefore = NotBefore;
    }
}

/// <summary>
/// The subject changes since the coordinator's last full write of its <see cref="RunState"/> (the snapshot). A lease or
/// a report is persisted by writing this journal — one delta per changed subject, its latest — instead of the whole
/// state, so a write costs the changes since the last compaction, not the cohort's size. Compaction writes the snapshot
/// with <see cref="RunState.Epoch"/> one higher, then an empty journal of that epoch. Recovery applies a journal only
/// when its epoch equals the snapshot's: a crash between the two writes leaves an older journal, which the newer
/// snapshot already contains, and it is ignored. Both writes are ETag-conditional as any grain state.
/// </summary>
public sealed class RunJournal
{
    /// <summary>Empty before the run's first journal write.</summary>
    public string RunId { get; set; } = "";
    public long Epoch { get; set; }
    public List<SubjectDelta> Changes { get; set; } = new();

    /// <summary>The file beside runs/state.json (embedded mode).</summary>
    public static string PathBeside(string statePath) => Path.Combine(Path.GetDirectoryName(statePath)!, "state.journal");

    /// <summary>Applies this journal to <paramref name="state"/> when it belongs to it (same run, same epoch); true when it did.</summary>
    public bool ApplyTo(RunState state)
    {
        if (RunId.Length == 0 || RunId != state.RunId || Epoch != state.Epoch) return false;
        var byId = state.Subjects.ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var d in Changes)
            if (byId.TryGetValue(d.Id, out var s)) d.ApplyTo(s);
        return true;
    }

    public static RunJournal? TryLoad(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<RunJournal>(File.ReadAllBytes(path), Json.Options); }
        catch (Exception e) when (e is JsonException or IOException) { return null; }
    }
}
