using System.Globalization;
using BatchCohort.Imaging.Registration;

namespace BatchCohort.Neuro.Pipeline;

/// <summary>
/// The per-subject part of a methods paragraph a paper can cite, generated from the settings actually used (so it
/// cannot drift from the run): registration, segmentation, and the definitions of the measures. Keep it in step with
/// <see cref="SubjectPipeline"/>: whoever changes a step there changes its sentence here.
/// </summary>
public static class PipelineMethods
{
    private static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Paragraphs: registration, segmentation, measures. <paramref name="atlasName"/> as people know it
    /// ("Colin27 (ch2, mricron-data)"), <paramref name="atlasIcvMl"/> the atlas's own intracranial volume (eTIV's constant) when known.</summary>
    public static IReadOnlyList<string> Describe(PipelineSettings settings, string atlasName, double? atlasIcvMl = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var r = settings.Registration;
        string metric = r.Metric == RegistrationMetric.MattesMutualInformation
            ? $"Mattes mutual information ({r.HistogramBins} histogram bins)"
            : "normalised cross-correlation";
        string minSim = r.Metric == RegistrationMetric.MattesMutualInformation ? $"mutual information below {F(r.MinMutualInformation)} nats" : $"correlation below {F(r.MinCorrelation)}";
        var registration =
            $"Each subject's T1-weighted image was reoriented to RAS and the {atlasName} atlas was registered to it with a 12-parameter affine " +
            $"transform (atlas → subject, world coordinates) maximising {metric} over at most {r.MaxSamplesPerLevel:N0} atlas sample points per level (fixed seed {r.Seed}), " +
            $"in a {r.PyramidSpacingsMm.Length}-level multi-resolution pyramid ({string.Join(", ", r.PyramidSpacingsMm.Select(F))} mm isotropic), " +
            $"by regular-step gradient descent (at most {r.MaxIterationsPerLevel} iterations per level, initial step {F(r.InitialStepFraction)} of the level spacing, final step {F(r.FinalStepMm)} mm), " +
            $"started from the centre-of-mass alignment{(r.TryPrincipalAxes ? $" and the principal-axes rotations ({r.CandidatesRefined} best candidates refined for {r.CandidateIterations} iterations at the coarsest level)" : "")}. " +
            $"A registration was counted as failed (the subject is reported, not measured) with {minSim}, an axis scale outside [{F(r.MinScale)}, {F(r.MaxScale)}], " +
            $"a shear above {F(r.MaxShear)}, or less than {F(r.MinOverlap * 100)} % of the atlas samples inside the image.";
        var t = settings.Tissue;
        var b = settings.Brain;
        var segmentation =
            "The head is every voxel brighter than half of Otsu's threshold of the image, its largest 6-connected component with holes filled. The atlas intracranial and brain masks were carried to the subject through the affine " +
            "(linear interpolation, kept at ≥ 0.5). Tissues (CSF, grey matter, white matter) were classified inside the carried intracranial mask by three-class k-means on " +
            $"bias-corrected intensities ({t.BiasRounds} alternations with a degree-{t.BiasDegree} polynomial log-bias field; no spatial priors). " +
            $"The brain is grey + white matter opened by {F(b.OpeningMm)} mm and reduced to its largest 6-connected component; its envelope (closed by {F(b.EnvelopeClosingMm)} mm and filled) " +
            $"is the brain mask. The subject's own intracranial space was then found in its image: the dark band around the brain (CSF and the skull's inner table, " +
            "dark meaning at most Otsu's threshold of the shell around the brain) was grown outward from the brain envelope through dark voxels only (geodesic reconstruction), " +
            $"at most {F(settings.IcvShellMm)} mm, inside a search zone that is the carried atlas mask dilated by {F(settings.IcvSearchMm)} mm (the atlas only bounds the search; it does not set the boundary), " +
            "and the band's outer inner-table layer removed; tissues and brain were classified again inside it.";
        var measures =
            "Volumes are voxel counts × voxel volume, in mL. ICV (icv_ml) is the volume of the subject's intracranial mask; CSF is every intracranial voxel that is not brain. " +
            "Brain (brain_ml) = grey + white matter (gm_ml + wm_ml). Following OASIS (Buckner et al. 2004), the atlas scaling factor ASF is the determinant of the affine's " +
            $"subject → atlas linear part and eTIV = atlas ICV / ASF{(atlasIcvMl is { } icv ? $" (atlas ICV {F(icv)} mL)" : "")}; nWBV = brain / eTIV (OASIS's normalised whole-brain volume, Fotenos et al. 2005); " +
            "brain_icv_ratio = brain / ICV (measured).";
        return new[] { registration, segmentation, measures };
    }
}
