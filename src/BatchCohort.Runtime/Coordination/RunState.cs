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
    /// <summary>URI of the input (what the subject grain loads).</summary>
    public string? Input { get; set; }
    /// <summary>A problem found before dispatch (e.g. a missing file): reported as the failure without measuring.</summary>
    public string? Problem { get; set; }
    public SubjectStatus Status { get; set; }
    public string? CacheKey { get; set; }
    public bool FromCache { get; set; }
    public string? FailureKind { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public double? Seconds { get; set; }
    /// <summary>The silo that measured it (or is measuring it).</summary>
    public string? Worker { get; set; }
    /// <summary>How many times it was handed to a silo (more than 1 after an interruption, a silo's death or a retried failure).</summary>
    public int Attempts { get; set; }
    /// <summary>After a failure that may be the silo's: the silo to avoid until <see cref="NotBefore"/>.</summary>
    public string? AvoidSilo { get; set; }
    public DateTimeOffset? NotBefore { get; set; }
}

/// <summary>
/// The coordinator's state: the cohort-run grain's persisted state (embedded: runs/state.json beside the outputs;
/// a cluster: its grain storage), copied to runs/&lt;run-id&gt;.json when the run ends. A coordinator that restarts
/// (after Ctrl-C, kill -9, or the death of its silo) resumes the same run: done subjects are kept, running ones go
/// back to pending. Losing the last second of changes is harmless: a subject whose result is written is a cache hit.
/// </summary>
public sealed class RunState
{
    public const string Measuring = "measuring", Grouping = "grouping", Completed = "completed", Interrupted = "interrupted", Cancelled = "cancelled";
    /// <summary>Final: every subject settled, but the group stage stopped (the notes say why; no statistics are left beside the measures).</summary>
    public const string GroupFailed = "group-failed";

    /// <summary>Empty in a grain's state before the run is opened.</summary>
    public string RunId { get; set; } = "";
    public string Cohort { get; set; } = "";
    public string Manifest { get; set; } = "";
    /// <summary>The output folder every silo writes to.</summary>
    public string OutputDirectory { get; set; } = "";
    /// <summary>Where the outputs live when they are not <see cref="OutputDirectory"/> itself (a blob location, whose
    /// local staging folder <see cref="OutputDirectory"/> is then); null for a local output.</summary>
    public string? OutputLocation { get; set; }
    /// <summary>A blob output: the manifest's copy in it (no SAS), read by the coordinator's group stage on any machine.</summary>
    public string? ManifestCopy { get; set; }
    /// <summary>Where completed runs publish their group outputs; null: &lt;output&gt;/exports.</summary>
    public string? ExportLocation { get; set; }
    /// <summary>URI of the settings document.</summary>
    public string Settings { get; set; } = "";
    public string PipelineVersion { get; set; } = "";
    public string SettingsHash { get; set; } = "";
    public string PipelineHash { get; set; } = "";
    public string Generator { get; set; } = "";
    public string Status { get; set; } = Measuring;
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>When the run was resumed after an interruption.</summary>
    public List<DateTimeOffset> ResumedAt { get; set; } = new();
    public int Jobs { get; set; }
    /// <summary>How many times the coordinator compacted its journal into this state (see <see cref="RunJournal"/>).</summary>
    public long Epoch { get; set; }
    /// <summary>Attempts per subject before a failure that may be the silo's (or a silo's death) becomes final.</summary>
    public int MaxAttempts { get; set; } = RunLedger.DefaultMaxAttempts;
    public List<SubjectState> Subjects { get; set; } = new();
    /// <summary>Notes from the group stage (excluded subjects and why), written when it ran.</summary>
    public List<string> Notes { get; set; } = new();
    /// <summary>Group-stage outputs, relative to the output folder.</summary>
    public List<string> Outputs { get; set; } = new();
    /// <summary>The group stage's printed summary.</summary>
    public string? GroupText { get; set; }

    public bool IsOpen => Status is Measuring or Grouping;

    public static string StatePath(string outputRoot) => Path.Combine(outputRoot, "runs", "state.json");
    public static string RecordPath(string outputRoot, string runId) => Path.Combine(outputRoot, "runs", runId + ".json");

    /// <summary>A run state file; runs/state.json with the coordinator's journal beside it applied (the changes since its last full write).</summary>
    public static RunState? TryLoad(string path)
    {
        if (!File.Exists(path)) return null;
        RunState? s;
        try { s = JsonSerializer.Deserialize<RunState>(File.ReadAllBytes(path), Json.Options); }
        catch (JsonException) { return null; }
        if (s is not null && Path.GetFileName(path) == "state.json") RunJournal.TryLoad(RunJournal.PathBeside(path))?.ApplyTo(s);
        return s;
    }

    public void Save(string path) => Json.WriteFile(path, this);

    public static string NewRunId(DateTimeOffset now) => now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'") + "-" + Guid.NewGuid().ToString("N")[..6];
}
