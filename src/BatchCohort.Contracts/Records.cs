namespace BatchCohort.Contracts;

// The records the grains exchange. They carry identifiers, URIs (file:// today; any storage location the silos can
// reach) and measures rows — never voxels, never patient-identifying fields.

/// <summary>One subject of a run as the client found it: its id, its BIDS label, its input and a problem found before dispatch.</summary>
[GenerateSerializer, Immutable]
public sealed record SubjectEntry(string Id, string Label, string Input, string? Problem);

/// <summary>What a client submits: the cohort, where outputs go, the settings document, the pipeline and the subjects.</summary>
[GenerateSerializer, Immutable]
public sealed record RunRequest(
    string Cohort,
    /// <summary>The manifest (cohort.json) path, read again by the coordinator for the group stage.</summary>
    string Manifest,
    /// <summary>The output folder (shared by every silo).</summary>
    string OutputDirectory,
    /// <summary>URI of the run's settings document (runs/settings-&lt;hash&gt;.json).</summary>
    string Settings,
    string SettingsHash,
    string PipelineVersion,
    string PipelineHash,
    string Generator,
    /// <summary>Start a new run even when the last one was interrupted.</summary>
    bool NewRun,
    /// <summary>Subjects at once on the embedded silo (null: from cores and memory); recorded in the run state.</summary>
    int? Jobs,
    SubjectEntry[] Subjects,
    /// <summary>Where the outputs live when that is not <see cref="OutputDirectory"/> itself: az://container/prefix or a
    /// blob URL (<see cref="OutputDirectory"/> is then its local staging folder). Null: the folder is the output.</summary>
    string? OutputLocation = null,
    /// <summary>Where completed runs publish their group outputs (a folder or a blob location); null: &lt;output&gt;/exports.</summary>
    string? ExportLocation = null,
    /// <summary>The ETag of the output's runs/state.json when the client read it (null: there was none), the
    /// condition of the coordinator's first write of it.</summary>
    string? OutputStateETag = null,
    /// <summary>A blob output: the copy of the manifest in it (runs/cohort-&lt;hash&gt;.json, no SAS), which the
    /// coordinator's group stage reads wherever it runs; null: the coordinator reads <see cref="Manifest"/>.</summary>
    string? ManifestCopy = null);

/// <summary>The answer to a submission: the run's id and whether it is a resumed, an already running or a new run.</summary>
[GenerateSerializer, Immutable]
public sealed record RunTicket(string RunId, bool Resumed, bool AlreadyRunning, string Status, string? Note = null);

/// <summary>Work for one subject, leased by a silo from the coordinator and handed to the subject grain.</summary>
[GenerateSerializer, Immutable]
public sealed record SubjectJob(
    string RunId,
    string SubjectId,
    string SubjectLabel,
    /// <summary>URI of the input: a NIfTI file, an Analyze .hdr, or a DICOM series folder.</summary>
    string Input,
    /// <summary>URI of the subject's output folder (…/sub-&lt;label&gt;/anat/).</summary>
    string Output,
    /// <summary>URI of the run's settings document.</summary>
    string Settings,
    string SettingsHash,
    string PipelineVersion,
    string? KnownProblem,
    int Attempt);

[GenerateSerializer]
public enum SubjectOutcome { Measured, Failed }

/// <summary>A subject grain's report, sent only after the result is durable (Measured) or with the reason (Failed).</summary>
[GenerateSerializer, Immutable]
public sealed record SubjectReport(
    string RunId,
    string SubjectId,
    int Attempt,
    SubjectOutcome Outcome,
    /// <summary>The silo that did the work.</summary>
    string Silo,
    double Seconds,
    string? CacheKey = null,
    /// <summary>URI of the result record (the subject's measures sidecar).</summary>
    string? Result = null,
    bool FromCache = false,
    /// <summary>The measures row (numbers only; text columns stay in the result record).</summary>
    Dictionary<string, double?>? Measures = null,
    string? FailureKind = null,
    string? Reason = null);

[GenerateSerializer, Immutable]
public sealed record FailureNotice(string SubjectId, string Reason);

/// <summary>Counts for a progress bar, and the failures the caller has not seen yet.</summary>
[GenerateSerializer, Immutable]
public sealed record RunProgress(
    string RunId, string Status, int Total, int Done, int Cached, int Failed, int Running, int Pending,
    double ElapsedSeconds, double? EtaSeconds, FailureNotice[] NewFailures, int FailuresSeen);

/// <summary>One subject's state in a run.</summary>
[GenerateSerializer, Immutable]
public sealed record SubjectView(
    string Id, string Label, string Status, int Attempts, string? Silo, string? FailureKind, string? Reason,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, double? Seconds, bool FromCache, string? CacheKey);

/// <summary>A run's whole state: what <c>batchcohort status RUN</c> shows.</summary>
[GenerateSerializer, Immutable]
public sealed record RunView(
    string RunId, string Cohort, string Manifest, string OutputDirectory, string Status, string PipelineVersion,
    string PipelineHash, string SettingsHash, string Generator, int Jobs,
    DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, DateTimeOffset[] ResumedAt,
    SubjectView[] Subjects, string[] Notes, string[] Outputs, string? GroupText,
    /// <summary>The silo that hosts the coordinator now.</summary>
    string? Coordinator = null);

/// <summary>A line of <c>batchcohort status</c>: one run known to the cluster.</summary>
[GenerateSerializer, Immutable]
public sealed record RunListing(string RunId, string Cohort, string OutputDirectory, string Status, DateTimeOffset StartedAt);

/// <summary>A silo's admission: refused when it runs another pipeline version than the silos already in the cluster.</summary>
[GenerateSerializer, Immutable]
public sealed record JoinAnswer(bool Accepted, string PipelineVersion, string? Reason);

/// <summary>
/// The memory of the silo process that hosts a run's coordinator (a diagnostic for the cluster benchmark): the process
/// (working set, its peak), the managed heap after a full collection, and the coordinator's own state — its JSON size
/// (compact, as grain storage holds it) and the managed bytes of one copy of it, measured by the heap's growth when a
/// copy is made. Zero state figures when the grain holds no run.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HostMemory(
    string Silo, long WorkingSetBytes, long PeakWorkingSetBytes, long ManagedAfterGcBytes, long GcCommittedBytes,
    int Subjects, long StateJsonBytes, long StateManagedBytes, int Activations);
