namespace BatchCohort.Imaging.Registration;

public enum RegistrationMetric
{
    /// <summary>Mattes mutual information (Parzen windows; robust to contrast differences between atlas and subject).</summary>
    MattesMutualInformation,

    /// <summary>Normalised cross-correlation (Pearson's r; for images of the same contrast).</summary>
    NormalizedCrossCorrelation,
}

/// <summary>
/// Settings of <see cref="AffineRegistration"/>. A record, so a pipeline can hash it into its cache key.
/// Defaults are tuned for adult T1 heads at 0.8–3 mm.
/// </summary>
public sealed record AffineRegistrationSettings
{
    /// <summary>Pyramid levels, coarse to fine (isotropic grid spacing in mm).</summary>
    public double[] PyramidSpacingsMm { get; init; } = { 8, 4, 2 };

    public RegistrationMetric Metric { get; init; } = RegistrationMetric.MattesMutualInformation;

    /// <summary>Histogram bins for Mattes MI.</summary>
    public int HistogramBins { get; init; } = 32;

    /// <summary>At most this many atlas sample points per level (a fixed random subset of the atlas head region).</summary>
    public int MaxSamplesPerLevel { get; init; } = 80_000;

    /// <summary>Iteration cap per level of the regular-step gradient descent.</summary>
    public int MaxIterationsPerLevel { get; init; } = 200;

    /// <summary>Initial step at each level, as a fraction of that level's spacing (in mm of displacement at the head's radius).</summary>
    public double InitialStepFraction { get; init; } = 0.5;

    /// <summary>Smallest step at the finest level (mm); the descent stops when its step halves below this.</summary>
    public double FinalStepMm { get; init; } = 0.005;

    /// <summary>Try the principal-axes rotations (all four sign choices) besides the plain centre-of-mass start; keep the best.</summary>
    public bool TryPrincipalAxes { get; init; } = true;

    /// <summary>Also try mirrored starts and accept a mirrored result (negative determinant): for files whose header does
    /// not describe how the voxels are stored (Analyze; OASIS-1's sagittal raw images), left and right cannot be known.</summary>
    public bool AllowMirror { get; init; } = true;

    /// <summary>Iterations of the short descent used to compare starting candidates at the coarsest level.</summary>
    public int CandidateIterations { get; init; } = 30;

    /// <summary>How many of the best-ranked starting candidates get the short descent.</summary>
    public int CandidatesRefined { get; init; } = 4;

    /// <summary>
    /// Test hook for QC (issue 12: "a wrong start pose forced"): when set, the start search is skipped and the descent
    /// starts from this linear part (row-major 3×3, atlas → subject, about the two heads' centres of mass), e.g. a 90°
    /// or 180° turn. Null (the default) searches the starts as usual.
    /// </summary>
    public double[]? ForcedStart { get; init; }

    /// <summary>Seed of the sample-point subset (results are deterministic for a given seed).</summary>
    public int Seed { get; init; } = 20261121;

    // ---- failure criteria: a result outside these is reported as failed, with the reason ----

    /// <summary>Below this final Mattes MI (nats, at <see cref="HistogramBins"/> bins) the registration is failed.</summary>
    public double MinMutualInformation { get; init; } = 0.15;

    /// <summary>Below this final NCC the registration is failed.</summary>
    public double MinCorrelation { get; init; } = 0.5;

    /// <summary>Each axis scale of atlas → subject must lie in [MinScale, MaxScale].</summary>
    public double MinScale { get; init; } = 0.7;
    public double MaxScale { get; init; } = 1.45;

    /// <summary>Largest acceptable shear (|K_ij| of the linear part's upper-triangular factor).</summary>
    public double MaxShear { get; init; } = 0.25;

    /// <summary>At least this fraction of the atlas samples must land inside the subject's field of view.</summary>
    public double MinOverlap { get; init; } = 0.6;

    public static AffineRegistrationSettings Default { get; } = new();

    public void Validate()
    {
        if (PyramidSpacingsMm is null || PyramidSpacingsMm.Length == 0 || PyramidSpacingsMm.Any(s => !(s > 0) || !double.IsFinite(s)))
            throw new ArgumentException("PyramidSpacingsMm needs at least one positive, finite spacing", nameof(PyramidSpacingsMm));
        if (HistogramBins < 8 || HistogramBins > 256) throw new ArgumentException($"HistogramBins must be in 8..256, got {HistogramBins}", nameof(HistogramBins));
        if (MaxSamplesPerLevel < 1000) throw new ArgumentException($"MaxSamplesPerLevel must be ≥ 1000, got {MaxSamplesPerLevel}", nameof(MaxSamplesPerLevel));
        if (CandidatesRefined < 1) throw new ArgumentException("CandidatesRefined must be ≥ 1", nameof(CandidatesRefined));
        if (MaxIterationsPerLevel < 1) throw new ArgumentException("MaxIterationsPerLevel must be ≥ 1", nameof(MaxIterationsPerLevel));
        if (!(InitialStepFraction > 0) || !(FinalStepMm > 0)) throw new ArgumentException("step sizes must be positive", nameof(FinalStepMm));
        if (!(MinScale > 0) || !(MaxScale > MinScale)) throw new ArgumentException("need 0 < MinScale < MaxScale", nameof(MaxScale));
        if (ForcedStart is not null && (ForcedStart.Length != 9 || ForcedStart.Any(v => !double.IsFinite(v))))
            throw new ArgumentException("ForcedStart needs 9 finite numbers (a row-major 3×3 linear part)", nameof(ForcedStart));
    }

    public bool Equals(AffineRegistrationSettings? other) =>
        other is not null && PyramidSpacingsMm.SequenceEqual(other.PyramidSpacingsMm) && Metric == other.Metric && HistogramBins == other.HistogramBins
        && MaxSamplesPerLevel == other.MaxSamplesPerLevel && MaxIterationsPerLevel == other.MaxIterationsPerLevel
        && InitialStepFraction == other.InitialStepFraction && FinalStepMm == other.FinalStepMm && TryPrincipalAxes == other.TryPrincipalAxes && AllowMirror == other.AllowMirror
        && CandidateIterations == other.CandidateIterations && CandidatesRefined == other.CandidatesRefined && Seed == other.Seed && MinMutualInformation == other.MinMutualInformation
        && MinCorrelation == other.MinCorrelation && MinScale == other.MinScale && MaxScale == other.MaxScale && MaxShear == other.MaxShear
        && MinOverlap == other.MinOverlap && (ForcedStart ?? Array.Empty<double>()).SequenceEqual(other.ForcedStart ?? Array.Empty<double>())
        && (ForcedStart is null) == (other.ForcedStart is null);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var s in PyramidSpacingsMm) h.Add(s);
        h.Add(Metric); h.Add(HistogramBins); h.Add(MaxSamplesPerLevel); h.Add(MaxIterationsPerLevel); h.Add(InitialStepFraction);
        h.Add(FinalStepMm); h.Add(TryPrincipalAxes); h.Add(AllowMirror); h.Add(CandidateIterations); h.Add(CandidatesRefined); h.Add(Seed); h.Add(MinMutualInformation);
        h.Add(MinCorrelation); h.Add(MinScale); h.Add(MaxScale); h.Add(MaxShear); h.Add(MinOverlap);
        if (ForcedStart is not null) foreach (var v in ForcedStart) h.Add(v);
        return h.ToHashCode();
    }

    /// <summary>The settings an atlas preparation depends on (pyramid, sample subset); a prepared atlas serves any settings with the same key.</summary>
    public string AtlasKey() => FormattableString.Invariant($"atlas-v1;levels={string.Join(",", PyramidSpacingsMm)};samples={MaxSamplesPerLevel};seed={Seed}");

    /// <summary>A stable text form of every setting (for cache keys and logs).</summary>
    public string ToKey() => FormattableString.Invariant(
        $"affine-v2;levels={string.Join(",", PyramidSpacingsMm)};metric={Metric};bins={HistogramBins};samples={MaxSamplesPerLevel};iter={MaxIterationsPerLevel};step0={InitialStepFraction};stepmin={FinalStepMm};pa={TryPrincipalAxes};mirror={AllowMirror};cand={CandidateIterations}x{CandidatesRefined};seed={Seed};mi>={MinMutualInformation};ncc>={MinCorrelation};scale={MinScale}..{MaxScale};shear<={MaxShear};overlap>={MinOverlap}{(ForcedStart is null ? "" : ";start=" + string.Join(",", ForcedStart.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))))}");
}
