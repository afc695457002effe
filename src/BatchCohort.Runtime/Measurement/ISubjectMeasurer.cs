using System.Text.Json.Nodes;
using BatchCohort.Runtime.Cohorts;

namespace BatchCohort.Runtime.Measurement;

/// <summary>
/// The seam between "what a subject's work is" and "how work is spread": measure one subject from its input,
/// the atlas and the settings, writing derivatives into <see cref="SubjectWork.OutputDirectory"/>. The runtime
/// owns hashing, caching, dispatch, retries and the result record; an implementation owns only the science.
/// Implementations must be thread-safe (several subjects are measured at once) and should honour the token.
/// A subject that cannot be measured is reported by throwing — <see cref="SubjectMeasurementException"/> for a
/// reason a person can act on; any other exception is reported with its message.
/// </summary>
public interface ISubjectMeasurer
{
    /// <summary>Names the code and defaults that produce the measures; part of every cache key. Change it and every subject is measured again.</summary>
    string PipelineVersion { get; }

    Task<MeasurerOutput> MeasureAsync(SubjectWork work, CancellationToken cancellationToken);

    /// <summary>The numeric measure columns it produces (e.g. icv_ml, nwbv), so a manifest's analyses are checked
    /// before anything is measured; null: not declared (names are then checked against the demographics only as warnings).</summary>
    IReadOnlyList<string>? MeasureNames => null;

    /// <summary>The text columns it produces (e.g. qc_flags).</summary>
    IReadOnlyList<string>? LabelNames => null;

    /// <summary>The settings it accepts (checked before anything is measured); null: any settings are passed through unchecked.</summary>
    SettingsCatalog? Settings => null;
}

/// <summary>One subject's job, as the measurer sees it (paths are local; the consumer resolved the URIs).</summary>
public sealed record SubjectWork(
    string SubjectId,
    string SubjectLabel,
    /// <summary>A NIfTI file, an Analyze/NIfTI .hdr (its .img beside it), or a DICOM series folder.</summary>
    string InputPath,
    InputType InputType,
    AtlasSpec Atlas,
    JsonObject Settings,
    /// <summary>Where derivatives go: &lt;out&gt;/sub-&lt;label&gt;/anat/ (exists when the measurer is called).</summary>
    string OutputDirectory,
    /// <summary>The BIDS prefix of every file name: sub-&lt;label&gt;.</summary>
    string FilePrefix);

/// <summary>What a measurer returns: the measures row and the derivative files it wrote.</summary>
public sealed record MeasurerOutput
{
    /// <summary>The measures row in column order (e.g. icv_ml, etiv_ml, asf, brain_ml, …, nwbv, brain_icv_ratio); null = not measurable.</summary>
    public required IReadOnlyList<KeyValuePair<string, double?>> Measures { get; init; }

    /// <summary>Text columns (e.g. qc_flags). Optional.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Labels { get; init; } = Array.Empty<KeyValuePair<string, string>>();

    /// <summary>Derivative files by role (brain_mask, icv_mask, dseg, xfm, qc), paths relative to the output directory.
    /// The role "qc" names the QC montage shown in the report.</summary>
    public IReadOnlyDictionary<string, string> Files { get; init; } = new Dictionary<string, string>();

    /// <summary>Seconds per pipeline step (load, register, segment, measure, write), for runs/&lt;run-id&gt;.json.</summary>
    public IReadOnlyDictionary<string, double> StepSeconds { get; init; } = new Dictionary<string, double>();
}

/// <summary>A subject that cannot be measured, with a reason a person can act on.</summary>
public class SubjectMeasurementException : Exception
{
    public SubjectMeasurementException(string reason, string kind = FailureKinds.Measurement, Exception? inner = null) : base(reason, inner)
    {
        Kind = kind;
    }

    public string Kind { get; }
}

/// <summary>The kinds of failure reported in SubjectFailed and in runs/&lt;run-id&gt;.json.</summary>
public static class FailureKinds
{
    public const string InputMissing = "input-missing";
    public const string InputUnreadable = "input-unreadable";
    public const string Measurement = "measurement";
    public const string Internal = "internal";
}
