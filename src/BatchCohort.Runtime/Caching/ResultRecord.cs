namespace BatchCohort.Runtime.Caching;

/// <summary>
/// A subject's result record, <c>sub-&lt;label&gt;/anat/sub-&lt;label&gt;_measures.json</c> (a BIDS-style sidecar).
/// Written atomically after every derivative file, and before the SubjectMeasured event: its presence with the
/// right cache key is what "this subject is done" means.
/// </summary>
public sealed record ResultRecord
{
    public required string SubjectId { get; init; }
    public required string SubjectLabel { get; init; }
    public required string CacheKey { get; init; }
    public required string InputHash { get; init; }
    public required string PipelineVersion { get; init; }
    public required string SettingsHash { get; init; }
    public required string RunId { get; init; }
    public required DateTimeOffset MeasuredAt { get; init; }
    public required double Seconds { get; init; }
    public required Dictionary<string, double?> Measures { get; init; }
    public Dictionary<string, string> Labels { get; init; } = new();
    /// <summary>Derivative files by role, relative to the sidecar's folder.</summary>
    public Dictionary<string, string> Files { get; init; } = new();
    public Dictionary<string, double> Steps { get; init; } = new();
}
