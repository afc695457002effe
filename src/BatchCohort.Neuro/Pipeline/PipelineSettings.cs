using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using BatchCohort.Imaging.Registration;
using BatchCohort.Neuro.Segmentation;

namespace BatchCohort.Neuro.Pipeline;

/// <summary>
/// Everything that changes a subject's numbers besides its image and the atlas. Its <see cref="Hash"/> is part of the
/// cache key, so changing a setting re-measures subjects and nothing else does.
/// </summary>
public sealed record PipelineSettings
{
    public TissueClassifierSettings Tissue { get; init; } = new();
    public BrainSegmentationSettings Brain { get; init; } = new();
    /// <summary>How far (mm) the subject's intracranial boundary may lie outside the atlas ICV carried to it.</summary>
    public double IcvSearchMm { get; init; } = 12;
    /// <summary>How far (mm) outside the subject's brain the dark CSF/inner-table band is searched (wider than the
    /// atlas's 5 mm: atrophy widens the CSF band).</summary>
    public double IcvShellMm { get; init; } = 8;
    /// <summary>How far (mm) beyond the atlas ICV carried over the first tissue pass looks for the brain (pipeline 0.5.0;
    /// 0: only inside it, as 0.4.0 did). Across anatomies the affine's scale can be 10–20 % off, and a carried ICV that is
    /// too small cut the brain it seeded. Brain found beyond the carried ICV is kept only where it is bulk
    /// (<see cref="SubjectPipeline.FirstPassOpeningMm"/>): docs/pipeline.md, "Pipeline 0.5.0".</summary>
    public double FirstPassMarginMm { get; init; } = 12;
    /// <summary>Fraction of the atlas intracranial space (carried over) that must lie inside the image (loose: across
    /// anatomies the affine's scale can be off by 20 %, so the image's own ICV is checked against the edge as well).</summary>
    public double MinIcvInView { get; init; } = 0.8;
    /// <summary>Largest area (mm²) over which the measured intracranial space may touch the image's edge (beyond it the
    /// subject fails: the head is cut); above a tenth of it the subject is flagged (icv_at_fov_edge).</summary>
    public double MaxIcvCutMm2 { get; init; } = 4000;
    /// <summary>Affine registration atlas→subject; its own plausibility limits (similarity, scales, shear) turn a
    /// registration that did not work into a failed subject.</summary>
    [JsonIgnore] public AffineRegistrationSettings Registration { get; init; } = AffineRegistrationSettings.Default;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>SHA-256 (hex, 16 chars) of the settings' JSON form plus the pipeline version.</summary>
    public string Hash()
    {
        var json = JsonSerializer.Serialize(this, Json) + "|" + Registration.ToKey() + "|" + SubjectPipeline.Version;
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..16].ToLowerInvariant();
    }
}
