using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Processing.Labels;
using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Thresholding;

namespace BatchCohort.Neuro.Atlases;

/// <summary>
/// How an atlas's missing parts are derived from its head template and brain mask (used for Colin27, whose
/// package ships only the head, ch2.nii.gz, and the skull-stripped brain, ch2bet.nii.gz).
/// </summary>
public static class AtlasDerivation
{
    /// <summary>Radius (mm) of the closing that seals the brain mask's surface notches (interhemispheric and Sylvian fissures).</summary>
    public const double ClosingRadiusMm = 4;

    /// <summary>Thickness (mm) of the shell outside the brain searched for the dark band of CSF and inner table. 5 mm for an
    /// atlas (a young brain's thin CSF band; 8 mm, the subjects' <c>IcvShellMm</c>, lets Colin27's band run down the
    /// spinal canal and makes its ICV too tall for the synthesiser's 160 mm slab).</summary>
    public const double ShellMm = 5;

    /// <summary>
    /// Head mask: voxels brighter than half of Otsu's threshold of the whole image, the largest 6-connected component,
    /// holes filled (so the dark skull and sinuses inside the scalp are head too).
    /// </summary>
    public static Mask HeadMask(Volume head)
    {
        ArgumentNullException.ThrowIfNull(head);
        float t = Thresholds.Otsu(head.Data);
        var m = Mask.GreaterThan(head, t / 2);
        if (m.IsEmpty()) throw new ArgumentException("the head template is empty (no voxel above background)");
        return BinaryMorphology.BinaryFillHoles(Labeling.LargestComponent(m));
    }

    /// <summary>
    /// Intracranial mask from a head T1 and a brain mask that stops at the brain's surface (BET-style), by the same
    /// definition the subject pipeline uses (<see cref="Segmentation.IntracranialBoundary"/>): the brain mask closed
    /// (<see cref="ClosingRadiusMm"/> mm) and filled, grown through the dark CSF/bone band within <see cref="ShellMm"/> mm,
    /// the inner table cut where the band falls below the midpoint of its CSF and bone levels. <paramref name="darkThreshold"/>
    /// is Otsu's threshold of the shell (dark: CSF and bone). On Colin27 this gives ≈1.95 L (ch2bet itself is ≈1.74 L).
    /// </summary>
    public static Mask IntracranialMask(Volume head, Mask brainMask, out float darkThreshold) =>
        IntracranialMask(head, brainMask, out darkThreshold, ShellMm, null);

    /// <summary>
    /// The same derivation with a chosen shell thickness, optionally confined to <paramref name="within"/> (e.g. the
    /// atlas ICV carried to a subject and dilated): an atrophied brain leaves a wider CSF band than the atlas's, so the
    /// subject pipeline searches further and relies on the carried atlas mask to keep the search off the scalp.
    /// </summary>
    public static Mask IntracranialMask(Volume head, Mask brainMask, out float darkThreshold, double shellMm, Mask? within)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(brainMask);
        if (brainMask.Shape != head.Shape) throw new ArgumentException($"brain mask grid {brainMask.Shape} differs from the head's {head.Shape}");
        if (brainMask.IsEmpty()) throw new ArgumentException("the brain mask is empty");
        var r = Segmentation.IntracranialBoundary.Find(head, brainMask, within, shellMm, float.NaN);
        darkThreshold = r.DarkThreshold;
        return r.Icv;
    }

    /// <summary>
    /// Tissue classes by construction: inside the ICV, a three-class 1-D k-means of the T1 intensities (CSF, grey,
    /// white; initial centres at the 10th, 50th and 90th percentiles; a voxel joins the nearest centre); outside the
    /// ICV, <see cref="TissueClass.OtherHead"/> inside the head mask and <see cref="TissueClass.Background"/> elsewhere.
    /// </summary>
    public static byte[] TissueClasses(Volume head, Mask icv, Mask headMask, out double[] centres)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(icv);
        ArgumentNullException.ThrowIfNull(headMask);
        var d = head.Data;
        var inside = new List<float>();
        for (int i = 0; i < d.Length; i++) if (icv.Data[i] != 0) inside.Add(d[i]);
        if (inside.Count < 3) throw new ArgumentException("the intracranial mask has fewer than 3 voxels");
        centres = KMeans1D(inside.ToArray(), 3);
        double t1 = (centres[0] + centres[1]) / 2, t2 = (centres[1] + centres[2]) / 2;
        var cls = new byte[d.Length];
        for (int i = 0; i < d.Length; i++)
        {
            if (icv.Data[i] != 0)
                cls[i] = (byte)(d[i] <= t1 ? TissueClass.Csf : d[i] <= t2 ? TissueClass.GreyMatter : TissueClass.WhiteMatter);
            else
                cls[i] = (byte)(headMask.Data[i] != 0 ? TissueClass.OtherHead : TissueClass.Background);
        }
        return cls;
    }

    /// <summary>Deterministic 1-D k-means (Lloyd) on a 4096-bin histogram; returns the centres in increasing order.</summary>
    internal static double[] KMeans1D(float[] values, int k)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values) { if (v < min) min = v; if (v > max) max = v; }
        if (!(max > min)) return Enumerable.Range(0, k).Select(i => (double)min + i).ToArray();
        const int bins = 4096;
        var hist = new long[bins];
        double w = (max - min) / bins;
        foreach (var v in values) hist[Math.Min(bins - 1, (int)((v - min) / w))]++;
        double centre(int b) => min + (b + 0.5) * w;
        // initial centres at evenly spaced percentiles (10/50/90 for k = 3)
        var c = new double[k];
        long total = values.Length, acc = 0;
        int next = 0;
        for (int b = 0; b < bins && next < k; b++)
        {
            acc += hist[b];
            double target = k == 1 ? 0.5 : 0.1 + 0.8 * next / (k - 1);
            while (next < k && acc >= target * total)
            {
                c[next++] = centre(b);
                target = k == 1 ? 0.5 : 0.1 + 0.8 * Math.Min(next, k - 1) / (k - 1);
            }
        }
        for (int iter = 0; iter < 200; iter++)
        {
            var sum = new double[k];
            var cnt = new long[k];
            for (int b = 0; b < bins; b++)
            {
                if (hist[b] == 0) continue;
                double x = centre(b);
                int best = 0;
                for (int j = 1; j < k; j++) if (Math.Abs(x - c[j]) < Math.Abs(x - c[best])) best = j;
                sum[best] += x * hist[b];
                cnt[best] += hist[b];
            }
            bool moved = false;
            for (int j = 0; j < k; j++)
            {
                if (cnt[j] == 0) continue;
                double nc = sum[j] / cnt[j];
                if (Math.Abs(nc - c[j]) > 1e-9 * (max - min)) moved = true;
                c[j] = nc;
            }
            if (!moved) break;
        }
        Array.Sort(c);
        return c;
    }
}
