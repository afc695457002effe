using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Registration;

/// <summary>What one pyramid level did.</summary>
public sealed record RegistrationLevelReport(double SpacingMm, int Samples, int Iterations, double Similarity, double OverlapFraction, TimeSpan Elapsed);

/// <summary>
/// Outcome of an atlas → subject affine registration. <see cref="Success"/> is false, with a
/// <see cref="FailureReason"/> a person can act on, when the input is unusable or the result implausible; the
/// transforms are then the best found (for QC pictures) and must not be used for measures.
/// </summary>
public sealed record AffineRegistrationResult
{
    public required bool Success { get; init; }
    public string? FailureReason { get; init; }

    /// <summary>Maps atlas world (RAS mm) points to subject world points.</summary>
    public required Affine AtlasToSubject { get; init; }

    /// <summary>Maps subject world points to atlas world points (the inverse).</summary>
    public required Affine SubjectToAtlas { get; init; }

    public required RegistrationMetric Metric { get; init; }

    /// <summary>Final similarity at the finest level: Mattes MI in nats, or NCC.</summary>
    public required double FinalSimilarity { get; init; }

    /// <summary>Fraction of atlas samples inside the subject's field of view at the end.</summary>
    public required double Overlap { get; init; }

    /// <summary>
    /// Atlas scaling factor (OASIS): the determinant of the subject → atlas linear part. A larger head needs
    /// shrinking to match the atlas, so ASF &lt; 1; eTIV × ASF = the atlas's intracranial volume, the same for everyone.
    /// </summary>
    public required double Asf { get; init; }

    /// <summary>Estimated total intracranial volume, atlas ICV / ASF (mL); null when the atlas carries no ICV.</summary>
    public double? EtivMl { get; init; }

    /// <summary>Per-axis scales of the atlas → subject linear part (singular values, largest first).</summary>
    public required double[] Scales { get; init; }

    /// <summary>Largest shear of the linear part's upper-triangular (QR) factor, normalised by its diagonal.</summary>
    public required double MaxShear { get; init; }

    /// <summary>Total rotation angle of the linear part's rotation (polar) factor, degrees.</summary>
    public required double RotationDegrees { get; init; }

    public required string StartCandidate { get; init; }
    public required IReadOnlyList<RegistrationLevelReport> Levels { get; init; }
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Time spent building the subject's pyramid and finding its head (part of <see cref="Elapsed"/>).</summary>
    public TimeSpan PyramidElapsed { get; init; }

    /// <summary>Time spent comparing starting candidates at the coarsest level (part of <see cref="Elapsed"/>).</summary>
    public TimeSpan InitialisationElapsed { get; init; }

    /// <summary>Similarity of the result minus that of the best gross alternative (the result turned 180° about an
    /// atlas axis, refined), at the coarsest level: how clearly the metric tells the orientation (NaN when not computed).</summary>
    public double OrientationMargin { get; init; } = double.NaN;

    /// <summary>Settings key the result was computed with.</summary>
    public required string SettingsKey { get; init; }
}
