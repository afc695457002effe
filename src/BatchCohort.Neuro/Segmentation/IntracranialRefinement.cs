using BatchCohort.Imaging.Processing.Labels;
using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Neuro.Segmentation;

/// <summary>The subject's intracranial mask from the atlas ICV carried over and the ICV derived from its own brain.</summary>
public static class IntracranialRefinement
{
    /// <summary>
    /// ICV = fill(largest component of (derived ∪ (carried ∖ air ∖ bright))): the derived mask (brain + the dark
    /// CSF/inner-table band around it) follows the subject's anatomy; the carried atlas ICV adds back intracranial CSF
    /// the band search misses in atrophied brains. Carried voxels are dropped where the subject's intensity says they
    /// cannot be intracranial: air (below 10 % of the white-matter centre) or brighter than white matter by more than the
    /// grey–white spacing (scalp fat, diploë). Centres come from the tissue classification (bias field applied).
    /// </summary>
    public static Mask Combine(Volume subject, Mask derived, Mask carried, TissueClassification tissue)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(derived);
        ArgumentNullException.ThrowIfNull(carried);
        ArgumentNullException.ThrowIfNull(tissue);
        double gm = tissue.Centres[1], wm = tissue.Centres[2];
        double air = 0.10 * wm, bright = wm + (wm - gm);
        var d = subject.Data;
        var bias = tissue.BiasField;
        var outData = new byte[d.Length];
        for (int i = 0; i < d.Length; i++)
        {
            if (derived.Data[i] != 0) { outData[i] = 1; continue; }
            if (carried.Data[i] == 0) continue;
            double v = d[i] / bias[i];
            if (v > air && v < bright) outData[i] = 1;
        }
        var m = derived.WithData(outData);
        return BinaryMorphology.BinaryFillHoles(Labeling.LargestComponent(m, 6));
    }
}
