using BatchCohort.Neuro.Measurement;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Neuro.Pipeline;

/// <summary>Time spent in each step of one subject, in seconds.</summary>
public sealed record StepTimings(double Load, double Register, double Segment, double Measure, double Write)
{
    public double Total => Load + Register + Segment + Measure + Write;
}

/// <summary>
/// What one subject's run produced: either measures with masks, tissue labels, the atlas→subject transform and a QC
/// picture, or a failure with a reason a person can act on (a non-head image, a registration that did not converge,
/// implausible numbers). Never a silently wrong number: a failed result carries no measures.
/// </summary>
public sealed class SubjectResult
{
    private SubjectResult() { }

    public required string SubjectId { get; init; }
    public bool Success => FailureReason is null;
    public string? FailureReason { get; init; }
    /// <summary>The pipeline step that failed ("load", "head", "register", "segment", "measure").</summary>
    public string? FailedStep { get; init; }
    public SubjectMeasures? Measures { get; init; }
    /// <summary>The subject in canonical RAS orientation (the grid all masks below are on).</summary>
    public Volume? Subject { get; init; }
    /// <summary>Maps canonical-grid volumes back to the input's voxel order, for outputs on the input grid.</summary>
    public Reorientation? ToCanonical { get; init; }
    public Mask? Head { get; init; }
    public Mask? Intracranial { get; init; }
    public Mask? Brain { get; init; }
    /// <summary>0 background, 1 CSF, 2 GM, 3 WM inside the intracranial mask.</summary>
    public byte[]? Tissue { get; init; }
    /// <summary>World (RAS mm) transform taking atlas coordinates to subject coordinates.</summary>
    public Affine? AtlasToSubject { get; init; }
    public StepTimings Timings { get; init; } = new(0, 0, 0, 0, 0);

    internal static SubjectResult Failed(string id, string step, string reason, StepTimings timings) =>
        new() { SubjectId = id, FailedStep = step, FailureReason = reason, Timings = timings };

    internal static SubjectResult Succeeded(string id, SubjectMeasures m, Volume subject, Reorientation toCanonical, Mask head, Mask icv, Mask brain,
        byte[] tissue, Affine atlasToSubject, StepTimings timings) =>
        new()
        {
            SubjectId = id, Measures = m, Subject = subject, ToCanonical = toCanonical, Head = head, Intracranial = icv, Brain = brain,
            Tissue = tissue, AtlasToSubject = atlasToSubject, Timings = timings,
        };
}
