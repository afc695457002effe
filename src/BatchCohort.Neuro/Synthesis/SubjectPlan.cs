using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Neuro.Synthesis;

/// <summary>
/// Everything random about one synthetic subject, drawn before any voxel is computed: demographics, head size,
/// pose, the brain-volume target, and the keys of the per-voxel noise. A pure function of (seed, cohort size, index).
/// </summary>
public sealed record SubjectPlan
{
    public required string Id { get; init; }          // "sub-0001"
    public required int Index { get; init; }
    public required double Age { get; init; }
    public required string Sex { get; init; }         // "F" or "M"
    public required string Group { get; init; }       // "control" or "patient"
    /// <summary>Head size relative to a reference head of <see cref="SynthOptions.ReferenceIcvMl"/> (0.85–1.15).</summary>
    public required double SizeFactor { get; init; }
    /// <summary>Isotropic scale from atlas to subject: <see cref="SizeFactor"/> × (reference ICV / atlas ICV)^⅓.</summary>
    public required double Scale { get; init; }
    /// <summary>Rotations (degrees) about the world x, y and z axes through the atlas ICV centroid, applied x first, then y, then z.</summary>
    public required (double X, double Y, double Z) RotationDeg { get; init; }
    /// <summary>Where the atlas ICV centroid lands in the subject's world (mm).</summary>
    public required (double X, double Y, double Z) TranslationMm { get; init; }
    /// <summary>Brain-tissue volume as a fraction of the atlas's (age, group and individual effects; ≤ 1).</summary>
    public required double BrainFraction { get; init; }
    /// <summary>Bias-field coefficients of the log-field polynomial (u, v, w, u², v², w², uv, uw, vw).</summary>
    public required double[] BiasCoefficients { get; init; }
    /// <summary>Key of this subject's counter-based noise and atrophy pattern.</summary>
    public required ulong NoiseKey { get; init; }
    /// <summary>Key of the scan's Rician noise when it differs from <see cref="NoiseKey"/> (a re-scan of the same
    /// anatomy, <see cref="CohortSynthesizer.Rescan"/>); null: the noise uses <see cref="NoiseKey"/>.</summary>
    public ulong? ScanKey { get; init; }
    /// <summary>How many poses were drawn before one kept the intracranial space inside the field of view.</summary>
    public int PoseDraws { get; init; } = 1;
    /// <summary>How many head sizes were drawn: more than 1 when the first was too large for the field of view at every
    /// pose tried (the size distribution is truncated there).</summary>
    public int SizeDraws { get; init; } = 1;

    /// <summary>The atlas→subject world affine: T(translation) · Rz · Ry · Rx · S(scale) · T(−centre).</summary>
    public Affine AtlasToSubject((double X, double Y, double Z) atlasCentre) => PoseAffine(atlasCentre, Scale, RotationDeg, TranslationMm);

    public static Affine PoseAffine((double X, double Y, double Z) c, double scale, (double X, double Y, double Z) rotDeg, (double X, double Y, double Z) t)
    {
        double rx = rotDeg.X * Math.PI / 180, ry = rotDeg.Y * Math.PI / 180, rz = rotDeg.Z * Math.PI / 180;
        var (sx, cx) = Math.SinCos(rx);
        var (sy, cy) = Math.SinCos(ry);
        var (sz, cz) = Math.SinCos(rz);
        var Rx = new Affine(new double[] { 1, 0, 0, 0, 0, cx, -sx, 0, 0, sx, cx, 0, 0, 0, 0, 1 });
        var Ry = new Affine(new double[] { cy, 0, sy, 0, 0, 1, 0, 0, -sy, 0, cy, 0, 0, 0, 0, 1 });
        var Rz = new Affine(new double[] { cz, -sz, 0, 0, sz, cz, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 });
        var S = Affine.FromSpacing(scale, scale, scale);
        var toOrigin = Affine.FromSpacing(1, 1, 1, -c.X, -c.Y, -c.Z);
        var toT = Affine.FromSpacing(1, 1, 1, t.X, t.Y, t.Z);
        return toT * Rz * Ry * Rx * S * toOrigin;
    }
}
