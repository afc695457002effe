using System.Text.Json.Serialization;

namespace BatchCohort.Runtime.Scheduling;

/// <summary>
/// A nightly schedule as the user declared it (<c>batchcohort schedule add</c>): which cohort, at what local time,
/// in which IANA time zone, and where the summary goes. Written once by the CLI; never changed by the scheduler.
/// </summary>
public sealed record ScheduleSpec
{
    public required string Id { get; init; }
    /// <summary>The cohort's manifest (absolute path of cohort.json).</summary>
    public required string Cohort { get; init; }
    /// <summary>The cohort's name (from the manifest), for people.</summary>
    public required string CohortName { get; init; }
    /// <summary>Local time of day, "HH:mm".</summary>
    public required string At { get; init; }
    /// <summary>IANA zone id (e.g. Europe/Berlin); the machine's zone when not given.</summary>
    public required string TimeZone { get; init; }
    public string? Webhook { get; init; }
    /// <summary>Where exports are published (a folder); default &lt;output&gt;/exports.</summary>
    public string? Export { get; init; }
    public int? Jobs { get; init; }
    /// <summary>Cluster connection (cluster mode); null in embedded mode.</summary>
    public string? Cluster { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    [JsonIgnore] public TimeOnly LocalTime => NightlyClock.ParseAt(At);
    [JsonIgnore] public TimeZoneInfo Zone => NightlyClock.FindZone(TimeZone);
}

/// <summary>
/// What the scheduler remembers about a schedule (written only by the scheduler): the last night it handled — run
/// or skipped — so "has tonight's run happened?" is a lookup, and the last outcome for <c>schedule list</c>.
/// </summary>
public sealed record ScheduleState
{
    /// <summary>The last local date whose occurrence was handled (run, or skipped because a run was still going).</summary>
    public DateOnly? LastNight { get; init; }
    public DateTimeOffset? LastTriggeredAt { get; init; }
    public string? LastRunId { get; init; }
    /// <summary>succeeded, failures (some subjects failed), publish-failed, failed, skipped.</summary>
    public string? LastOutcome { get; init; }
    public string? LastSummary { get; init; }
    /// <summary>Recent notes ("2026-12-03: skipped: run … of this cohort was still going"), newest last, at most 20.</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();

    public ScheduleState WithNote(string note) =>
        this with { Notes = Notes.Append(note).TakeLast(20).ToList() };
}

/// <summary>The outcomes a night can have (history, schedule list, webhook).</summary>
public static class NightOutcome
{
    public const string Succeeded = "succeeded";
    /// <summary>The run completed but some subjects failed (named with reasons).</summary>
    public const string Failures = "failures";
    /// <summary>Measured and grouped, but the exports could not be published; the next night retries.</summary>
    public const string PublishFailed = "publish-failed";
    /// <summary>The run could not be done at all (e.g. the manifest broke); the next night tries again.</summary>
    public const string Failed = "failed";
    public const string Skipped = "skipped";

    public static bool IsBad(string? outcome) => outcome is Failures or PublishFailed or Failed;
}
