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
    public static BrainMasks Segment(TissueClassification tissue, Mask icv, BrainSegmentationSettings? settings = null)
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
        var main = Labeling.LargestComponent(core, 6);
        // Give back the voxels the opening shaved off the kept component's surface (they are brain, not bridges).
        // (a dilation as deep as the opening's ball, inside grey + white: thin gyral crowns come back, while tissue
        // beyond a cut bridge stays out — it is further from the kept component than the ball reaches).
        var regrown = (settings.OpeningMm > 0 ? BinaryMorphology.BinaryDilation(main, settings.OpeningMm) : main)
            .Or(BinaryMorphology.BinaryDilation(main, StructuringElement.Neighbourhood26, iterations: 1)).And(brain);
        var tissueMask = Labeling.LargestComponent(regrown, 6);
        var env = settings.EnvelopeClosingMm > 0 ? BinaryMorphology.BinaryClosing(tissueMask, settings.EnvelopeClosingMm).Or(tissueMask) : tissueMask;
        env = BinaryMorphology.BinaryFillHoles(env).And(icv);
        // Brain tissue: every grey/white voxel inside the envelope (the opening only decided which component is brain;
        // thin gyral crowns it shaved are brain and count).
        tissueMask = env.And(brain);
        return new BrainMasks(tissueMask, env);
    }
}
