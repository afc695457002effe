using BatchCohort.Imaging.Processing.Labels;
using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Neuro.Segmentation;

/// <summary>Settings of <see cref="BrainSegmentation"/>.</summary>
public sealed record BrainSegmentationSettings
{
    /// <summary>Opening radius (mm) that cuts thin bridges between brain and dura/vessels before the largest component.</summary>
    public double OpeningMm { get; init; } = 2.0;
    /// <summary>Closing radius (mm) that turns grey + white matter into a brain envelope (sulci and ventricles inside).</summary>
    public double EnvelopeClosingMm { get; init; } = 4.0;
    /// <summary>With a guide (the atlas brain carried to the subject): a component of the opened grey + white matter other
    /// than the largest is kept when at least this fraction of it lies inside the guide, dilated by
    /// <see cref="GuideMarginMm"/> (the cerebellum and brainstem, which a thin peduncle or midbrain joins to the cerebrum,
    /// separate under the opening on small or atrophied heads).</summary>
    public double GuideInsideFraction { get; init; } = 0.9;
    /// <summary>Dilation (mm) of the guide before a component's overlap with it is counted (tolerates affine misfit).</summary>
    public double GuideMarginMm { get; init; } = 2.0;
    /// <summary>Smallest extra component (mL) kept with a guide: specks are not brain structures.</summary>
    public double GuideMinComponentMl { get; init; } = 5.0;
}

/// <summary>Masks that refine the atlas masks on the subject's own tissue classes.</summary>
public sealed record BrainMasks(Mask Tissue, Mask Envelope);

/// <summary>
/// The brain from the tissue classes: grey + white matter inside the intracranial mask, opened slightly and reduced to
/// its largest 6-connected component (drops dura, vessels and orbit fat that share brain intensities); the brain
/// envelope (the skull-stripped brain a viewer shows, as BET's mask: ventricles and sulci inside) is that closed and
/// filled. Brain volume (brain_ml) counts grey + white voxels of the component; the envelope is for masks and QC.
/// </summary>
public static class BrainSegmentation
{
    /// <param name="guide">Optional: the atlas brain carried to the subject. It decides only which components of the opened
    /// grey + white matter are brain (besides the largest), never where a boundary lies.</param>
    /// <param name="trusted">Optional: where brain is taken on the usual opening; elsewhere it must also survive an opening
    /// of <paramref name="untrustedOpeningMm"/> (bulk brain does, a bridge into the scalp does not).</param>
    public static BrainMasks Segment(TissueClassification tissue, Mask icv, BrainSegmentationSettings? settings = null, Mask? guide = null,
        Mask? trusted = null, double untrustedOpeningMm = 0)
    {
        ArgumentNullException.ThrowIfNull(tissue);
        ArgumentNullException.ThrowIfNull(icv);
        settings ??= new BrainSegmentationSettings();
        if (tissue.Shape != icv.Shape) throw new ArgumentException($"tissue grid {tissue.Shape} differs from the ICV mask's {icv.Shape}", nameof(tissue));
        var gmwm = new byte[icv.Shape.Count];
        for (int i = 0; i < gmwm.Length; i++)
            gmwm[i] = (byte)(icv.Data[i] != 0 && tissue.Labels[i] >= TissueClassification.GmLabel ? 1 : 0);
        var brain = icv.WithData(gmwm);
        if (brain.IsEmpty()) throw new ArgumentException("no grey or white matter inside the intracranial mask", nameof(tissue));
        var core = settings.OpeningMm > 0 ? BinaryMorphology.BinaryOpening(brain, settings.OpeningMm) : brain;
        if (core.IsEmpty()) core = brain;
        if (trusted is not null && untrustedOpeningMm > 0)
        {
            var strong = BinaryMorphology.BinaryOpening(brain, untrustedOpeningMm);
            core = core.And(trusted.Or(strong));
            if (core.IsEmpty()) core = brain;
        }
        var main = guide is null ? Labeling.LargestComponent(core, 6) : GuidedComponents(core, guide, settings);
        // Give back the voxels the opening shaved off the kept component's surface (they are brain, not bridges).
        // (a dilation as deep as the opening's ball, inside grey + white: thin gyral crowns come back, while tissue
        // beyond a cut bridge stays out — it is further from the kept component than the ball reaches).
        var regrown = (settings.OpeningMm > 0 ? BinaryMorphology.BinaryDilation(main, settings.OpeningMm) : main)
            .Or(BinaryMorphology.BinaryDilation(main, StructuringElement.Neighbourhood26, iterations: 1)).And(brain);
        var tissueMask = guide is null ? Labeling.LargestComponent(regrown, 6) : regrown;
        var env = settings.EnvelopeClosingMm > 0 ? BinaryMorphology.BinaryClosing(tissueMask, settings.EnvelopeClosingMm).Or(tissueMask) : tissueMask;
        env = BinaryMorphology.BinaryFillHoles(env).And(icv);
        // Brain tissue: every grey/white voxel inside the envelope (the opening only decided which component is brain;
        // thin gyral crowns it shaved are brain and count).
        tissueMask = env.And(brain);
        return new BrainMasks(tissueMask, env);
    }

    /// <summary>The largest component, plus every other component of at least <see cref="BrainSegmentationSettings.GuideMinComponentMl"/>
    /// that lies mostly (<see cref="BrainSegmentationSettings.GuideInsideFraction"/>) inside the dilated guide.</summary>
    private static Mask GuidedComponents(Mask core, Mask guide, BrainSegmentationSettings settings)
    {
        if (guide.Shape != core.Shape) throw new ArgumentException($"guide grid {guide.Shape} differs from the brain's {core.Shape}", nameof(guide));
        var lab = Labeling.Label(core, 6);
        int n = lab.Count;
        var size = new long[n + 1];
        var inside = new long[n + 1];
        var g = settings.GuideMarginMm > 0 ? BinaryMorphology.BinaryDilation(guide, settings.GuideMarginMm) : guide;
        for (int i = 0; i < lab.Data.Length; i++)
        {
            int l = lab.Data[i];
            if (l == 0) continue;
            size[l]++;
            if (g.Data[i] != 0) inside[l]++;
        }
        int largest = 1;
        for (int l = 2; l <= n; l++) if (size[l] > size[largest]) largest = l;
        long minVox = (long)Math.Ceiling(settings.GuideMinComponentMl * 1000 / core.Spacing.VoxelVolumeMm3);
        var keep = new bool[n + 1];
        for (int l = 1; l <= n; l++)
            keep[l] = l == largest || (size[l] >= minVox && inside[l] >= settings.GuideInsideFraction * size[l]);
        var d = new byte[lab.Data.Length];
        for (int i = 0; i < d.Length; i++) d[i] = (byte)(keep[lab.Data[i]] ? 1 : 0);
        return core.WithData(d);
    }
}
