using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Neuro.Synthesis;

/// <summary>File format of synthetic subjects.</summary>
public enum SynthFormat
{
    /// <summary>Analyze 7.5 pair (sub-XXXX_T1w.hdr + .img), int16, as OASIS-1 distributes its scans.</summary>
    Analyze,
    /// <summary>NIfTI-1, gzipped (sub-XXXX_T1w.nii.gz), int16.</summary>
    Nifti,
}

/// <summary>How a synthetic subject's voxels are laid out on disk.</summary>
public enum SynthLayout
{
    /// <summary>Axial slabs: array axes right→left, posterior→anterior, inferior→superior (LAS, what nibabel/SPM write
    /// for Analyze), 128 slices of 1.25 mm along the head–foot axis. The header describes the orientation exactly.</summary>
    Las,
    /// <summary>OASIS-1's raw layout: sagittal slabs, array axes anterior→posterior, inferior→superior, right→left, 128
    /// slices of 1.25 mm across the head. Written as Analyze, whose header holds only voxel sizes, a reader following
    /// the Analyze convention (nibabel, SPM) sees the head turned by 90° turns and mirrored, as with the real scans;
    /// the pipeline has to find the head's orientation itself. As NIfTI the true orientation is in the header.</summary>
    Oasis,
}

/// <summary>
/// Settings of a synthetic cohort. The defaults are the documented model (README, "Synthetic cohorts"); every number
/// here ends up in the truth table or dataset_description.json so a cohort can be regenerated exactly.
/// </summary>
public sealed record SynthOptions
{
    public int Subjects { get; init; } = 20;
    public ulong Seed { get; init; } = 1;
    public SynthFormat Format { get; init; } = SynthFormat.Analyze;
    /// <summary>Voxel layout on disk (<see cref="SynthLayout"/>).</summary>
    public SynthLayout Layout { get; init; } = SynthLayout.Las;

    // --- demographics ---
    public double AgeMin { get; init; } = 60;
    public double AgeMax { get; init; } = 90;

    // --- head size and pose ---
    /// <summary>Head-size factor (isotropic) relative to a reference adult head of <see cref="ReferenceIcvMl"/>: female and male means.</summary>
    public double SizeMeanFemale { get; init; } = 0.96;
    public double SizeMeanMale { get; init; } = 1.04;
    public double SizeSd { get; init; } = 0.045;
    public double SizeMin { get; init; } = 0.85;
    public double SizeMax { get; init; } = 1.15;
    /// <summary>Intracranial volume (mL) of a head of size factor 1 (OASIS-1's mean eTIV is about 1.5 L).</summary>
    public double ReferenceIcvMl { get; init; } = 1500;
    public double MaxRotationDeg { get; init; } = 15;
    public double MaxTranslationMm { get; init; } = 15;

    // --- atrophy ---
    /// <summary>Age the atlas brain stands for (no atrophy).</summary>
    public double ReferenceAge { get; init; } = 30;
    /// <summary>Fractional brain-volume loss per year of age above <see cref="ReferenceAge"/>.</summary>
    public double AtrophyPerYear { get; init; } = 0.002;
    /// <summary>Extra fractional brain-volume loss of the patient group.</summary>
    public double PatientEffect { get; init; } = 0.04;
    /// <summary>Standard deviation of the individual brain-volume factor (truncated at ±2.5 SD).</summary>
    public double IndividualSd { get; init; } = 0.01;
    /// <summary>How unevenly the surface erodes: ± this many mm of depth, varying smoothly over the brain.</summary>
    public double AtrophyJitterMm { get; init; } = 1.0;

    // --- image ---
    /// <summary>Output intensity of white matter (before bias and noise).</summary>
    public double WhiteMatterIntensity { get; init; } = 800;
    /// <summary>Rician noise: σ of each Gaussian channel as a fraction of <see cref="WhiteMatterIntensity"/>.</summary>
    public double NoiseFraction { get; init; } = 0.03;
    /// <summary>Bias field: standard deviation of the log-field's polynomial coefficients (≈ ±15 % over the head at 0.06).</summary>
    public double BiasCoefficientSd { get; init; } = 0.06;

    // --- extras ---
    /// <summary>Also write each subject's true tissue classes on its grid (derivatives/truth/sub-XXXX/anat/sub-XXXX_dseg.nii.gz).</summary>
    public bool WriteTruthLabels { get; init; }

    public void Validate()
    {
        if (Subjects is < 1 or > 10000) throw new ArgumentException($"--subjects must be within 1–10000, got {Subjects}");
        if (!(AgeMin >= 18 && AgeMax <= 110 && AgeMin <= AgeMax)) throw new ArgumentException($"age range {AgeMin}–{AgeMax} is not sensible");
        if (!(SizeMin > 0.5 && SizeMax < 1.5 && SizeMin < SizeMax)) throw new ArgumentException($"size range {SizeMin}–{SizeMax} is not sensible");
        if (!(MaxRotationDeg >= 0 && MaxRotationDeg <= 45)) throw new ArgumentException($"rotation limit must be within 0–45°, got {MaxRotationDeg}");
        if (!(MaxTranslationMm >= 0 && MaxTranslationMm <= 50)) throw new ArgumentException($"translation limit must be within 0–50 mm, got {MaxTranslationMm}");
        if (!(NoiseFraction >= 0 && NoiseFraction <= 0.5)) throw new ArgumentException($"noise fraction must be within 0–0.5, got {NoiseFraction}");
        if (!(BiasCoefficientSd >= 0 && BiasCoefficientSd <= 0.5)) throw new ArgumentException($"bias coefficient SD must be within 0–0.5, got {BiasCoefficientSd}");
        if (!(AtrophyPerYear >= 0 && AtrophyPerYear <= 0.01 && PatientEffect >= 0 && PatientEffect <= 0.3))
            throw new ArgumentException("atrophy rates out of range (0–1 %/year, patient effect 0–30 %)");
        if (!(ReferenceIcvMl > 500 && ReferenceIcvMl < 3000)) throw new ArgumentException($"reference ICV must be within 500–3000 mL, got {ReferenceIcvMl}");
        if (!(WhiteMatterIntensity > 10 && WhiteMatterIntensity < 20000)) throw new ArgumentException($"white-matter intensity must be within 10–20000, got {WhiteMatterIntensity}");
    }
}

/// <summary>
/// The OASIS-1 acquisition grid: 256×256×128 voxels of 1.0×1.0×1.25 mm, int16. Written as Analyze 7.5, whose header
/// can only say diag(−1, 1, 1.25) with a whole-voxel origin (the nibabel/SPM reading), so the grid is LAS with
/// 128 axial slabs of 1.25 mm (160 mm head–foot); the origin is chosen per subject so the slab covers the head.
/// </summary>
public static class OasisGrid
{
    public static readonly Shape3 Shape = new(256, 256, 128);
    public static readonly Spacing3 Spacing = new(1.0, 1.0, 1.25);

    /// <summary>World origin at voxel (128, 128, <paramref name="originSlice"/>): x = −(i − 128), y = j − 128, z = 1.25·(k − originSlice).</summary>
    public static Affine AffineWithOrigin(int originSlice) =>
        new(new double[] { -1, 0, 0, 128, 0, 1, 0, -128, 0, 0, 1.25, -1.25 * originSlice, 0, 0, 0, 1 });

    /// <summary>
    /// OASIS-1's raw sagittal grid (same shape and voxel sizes, axes permuted): voxel (i, j, k) is at world
    /// x = cx − 1.25·(k − 63.5) (right→left), y = cy − (i − 127.5) (anterior→posterior), z = cz + (j − 127.5)
    /// (inferior→superior), centred on (<paramref name="cx"/>, <paramref name="cy"/>, <paramref name="cz"/>) rounded to whole voxels.
    /// </summary>
    public static Affine SagittalAffine(double cx, double cy, double cz)
    {
        cx = Math.Round(cx / Spacing.Z) * Spacing.Z; cy = Math.Round(cy); cz = Math.Round(cz);
        return new Affine(new double[] { 0, 0, -Spacing.Z, cx + Spacing.Z * 63.5, -1, 0, 0, cy + 127.5, 0, 1, 0, cz - 127.5, 0, 0, 0, 1 });
    }

    /// <summary>
    /// The affine a reader following the Analyze 7.5 convention (nibabel, SPM) gives a header that holds only the voxel
    /// sizes: diag(−dx, dy, dz), world origin at the array centre. This is how an OASIS raw image is seen.
    /// </summary>
    public static Affine AnalyzeReading(Shape3 shape, Spacing3 spacing) => Affine.FromSpacing(-spacing.X, spacing.Y, spacing.Z,
        spacing.X * (shape.X - 1) / 2.0, -spacing.Y * (shape.Y - 1) / 2.0, -spacing.Z * (shape.Z - 1) / 2.0);

    /// <summary>The whole-slice origin that puts world height <paramref name="zCentre"/> (mm) at the middle of the slab.</summary>
    public static int OriginSliceFor(double zCentre) => (int)Math.Round((Shape.Z - 1) / 2.0 - zCentre / Spacing.Z);
}
