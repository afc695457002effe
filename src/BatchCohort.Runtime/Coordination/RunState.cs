using System.Text.Json;
using System.Text.Json.Serialization;
using BatchCohort.Runtime.Storage;

namespace BatchCohort.Runtime.Coordination;

[JsonConverter(typeof(JsonStringEnumConverter<SubjectStatus>))]
public enum SubjectStatus { Pending, Running, Done, Failed }

/// <summary>One subject in a run: status, timings, and the reason when it failed.</summary>
public sealed class SubjectState
{
    public required string Id { get; init; }
    public required string Label { get; init; }
    public SubjectStatus Status { get; set; }
    public string? CacheKey { get; set; }
    public bool FromCache { get; set; }
    public string? FailureKind { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public double? Seconds { get; set; }
    public string? Worker { get; set; }
    /// <summary>How many times a worker started measuring it (more than 1 only after an interruption).</summary>
    public int Attempts { get; set; }
}

/// <summary>
/// The coordinator's state (runs/state.json while a run is open; copied to runs/&lt;run-id&gt;.json when it ends).
/// Persisted atomically after every change, so a coordinator that restarts (after Ctrl-C or kill -9) resumes the
/// same run: done subjects are kept, running ones go back to pending.
/// </summary>
public sealed class RunState
{
    public const string Measuring = "measuring", Grouping = "grouping", Completed = "completed", Interrupted = "interrupted";
    /// <summary>Final: every subject settled, but the group stage stopped (the notes say why; no statistics are left beside the measures).</summary>
    public const string GroupFailed = "group-failed";

    public required string RunId { get; init; }
    public required string Cohort { get; init; }
    public required string Manifest { get; init; }
    public required string PipelineVersion { get; init; }
    public required string SettingsHash { get; init; }
    public required string PipelineHash { get; init; }
    public required string Generator { get; init; }
    public string Status { get; set; } = Measuring;
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>When the run was resumed after an interruption.</summary>
    public List<DateTimeOffset> ResumedAt { get; init; } = new();
    public int Jobs { get; set; }
    public List<SubjectState> Subjects { get; init; } = new();
    /// <summary>Notes from the group stage (excluded subjects and why), written when it ran.</summary>
    public List<string> Notes { get; set; } = new();
    /// <summary>Group-stage outputs, relative to the output folder.</summary>
    public List<string> Outputs { get; set; } = new();

    public static string StatePath(string outputRoot) => Path.Combine(outputRoot, "runs", "state.json");
    public static string RecordPath(string outputRoot, string runId) => Path.Combine(outputRoot, "runs", runId + ".json");

    public static RunState? TryLoad(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<RunState>(File.ReadAllBytes(path), Json.Options); }
        catch (JsonException) { return null; }
    }

    public void Save(string path) => AtomicFile.WriteJson(path, this);

    public static string NewRunId(DateTimeOffset now) => now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'") + "-" + Guid.NewGuid().ToString("N")[..6];
}
