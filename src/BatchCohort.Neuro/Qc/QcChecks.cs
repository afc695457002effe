using System.Globalization;
using BatchCohort.Imaging.Registration;

namespace BatchCohort.Neuro.Qc;

/// <summary>What the per-subject QC checks look at.</summary>
public sealed record QcInputs(double HeadMl, double IcvMl, double EtivMl, double BrainMl, double AtlasDice, double Similarity, RegistrationMetric Metric,
    double GreyWhiteContrast, double BrainCutFraction, double WhiteMatterDice = 1, double WhiteMatterDepthRatio = double.PositiveInfinity,
    double OrientationMargin = double.PositiveInfinity);

/// <summary>
/// Per-subject checks that catch gross failures before they reach the statistics. Each check that fails adds a flag
/// "name(value)" to qc_flags; a flagged subject is listed first in the report and can be left out of the group stage
/// (manifest "exclude": "flagged"). The limits are wide on purpose: they catch a wrong head, a wrong pose or a
/// boundary run into the scalp, not ordinary variation (the cohort-level robust z-scores do that).
/// </summary>
public static class QcChecks
{
    /// <summary>ICV / head volume: the intracranial space is a fraction of the head (0.2–0.7 for a head with some neck).</summary>
    public const double MinIcvHeadRatio = 0.2, MaxIcvHeadRatio = 0.7;
    /// <summary>Measured ICV against the atlas-scaling eTIV: more than this relative difference means the registration's
    /// scale and the image's own boundary disagree.</summary>
    public const double MaxIcvEtivDifference = 0.25;
    /// <summary>Final registration similarity below this (Mattes MI, nats at 32 bins) is a poor match.</summary>
    public const double MinMutualInformation = 0.2;
    public const double MinCorrelation = 0.6;
    /// <summary>Dice of the atlas brain carried over against the brain found in the image.</summary>
    public const double MinAtlasDice = 0.75;
    /// <summary>Plausible adult ICV (mL) and brain/ICV ratio.</summary>
    public const double MinIcvMl = 900, MaxIcvMl = 2400, MinBrainIcv = 0.5, MaxBrainIcv = 0.95;

    /// <summary>(WM − GM)/WM of the tissue centres: a T1 head has 0.2–0.4; a uniform object split into "classes" ≈ 0.</summary>
    public const double MinGreyWhiteContrast = 0.1;

    /// <summary>Mean depth (distance inside the ICV) of white matter over that of grey matter: in a brain the white
    /// matter lies under the cortex (well above 1); tissue scattered without a brain's layout gives ≈ 1.</summary>
    public const double MinWhiteMatterDepthRatio = 1.15;

    /// <summary>The registration's similarity must beat the best gross alternative orientation (the result turned 180°
    /// about an atlas axis, refined) by this much (Mattes MI, nats; <see cref="AffineRegistrationResult.OrientationMargin"/>):
    /// below it the metric cannot tell front from back or up from down for this atlas and head.</summary>
    public const double MinOrientationMargin = 0.05;

    public static List<string> Flags(QcInputs q)
    {
        ArgumentNullException.ThrowIfNull(q);
        var flags = new List<string>();
        string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        double ratio = q.IcvMl / q.HeadMl;
        if (!(ratio >= MinIcvHeadRatio && ratio <= MaxIcvHeadRatio)) flags.Add(F($"icv_head_ratio({ratio:F2})"));
        double de = q.IcvMl / q.EtivMl - 1;
        if (!(Math.Abs(de) <= MaxIcvEtivDifference)) flags.Add(F($"icv_etiv_disagree({de * 100:+0;-0}%)"));
        bool lowSim = q.Metric == RegistrationMetric.MattesMutualInformation ? !(q.Similarity >= MinMutualInformation) : !(q.Similarity >= MinCorrelation);
        if (lowSim) flags.Add(F($"registration_similarity_low({q.Similarity:F2})"));
        if (!(q.AtlasDice >= MinAtlasDice)) flags.Add(F($"atlas_dice_low({q.AtlasDice:F2})"));
        if (!(q.IcvMl >= MinIcvMl && q.IcvMl <= MaxIcvMl)) flags.Add(F($"icv_implausible({q.IcvMl:F0}mL)"));
        double bi = q.BrainMl / q.IcvMl;
        if (!(bi >= MinBrainIcv && bi <= MaxBrainIcv)) flags.Add(F($"brain_icv_implausible({bi:F2})"));
        if (!(q.GreyWhiteContrast >= MinGreyWhiteContrast)) flags.Add(F($"no_grey_white_contrast({q.GreyWhiteContrast:F2})"));
        if (q.Metric == RegistrationMetric.MattesMutualInformation && !(q.OrientationMargin >= MinOrientationMargin))
            flags.Add(F($"orientation_ambiguous(margin {q.OrientationMargin:F3})"));
        if (!(q.WhiteMatterDepthRatio >= MinWhiteMatterDepthRatio)) flags.Add(F($"tissue_layout_not_a_brain(wm_depth_ratio {q.WhiteMatterDepthRatio:F2})"));
        return flags;
    }

    /// <summary>
    /// Mean distance (mm) from the intracranial boundary of the white-matter voxels over that of the grey-matter voxels
    /// (labels as in the pipeline's output: 2 grey, 3 white). Atlas-independent: a brain has its white matter under a
    /// cortical ribbon (1.34 on ch2 at 2 mm with either atlas, 1.60 on a phantom-derived subject), 8 mm blocks of a brain (cortex included) shuffled 1.06, an ellipsoid with head-like intensities 0.99; flagged below 1.15.
    /// </summary>
    public static double WhiteMatterDepthRatio(BatchCohort.Imaging.Volumes.Mask icv, byte[] labels, byte gmLabel, byte wmLabel)
    {
        var depth = BatchCohort.Imaging.Processing.Distance.DistanceTransforms.DistanceTransformEdt(icv).Data;
        double sg = 0, sw = 0;
        long ng = 0, nw = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == gmLabel) { sg += depth[i]; ng++; }
            else if (labels[i] == wmLabel) { sw += depth[i]; nw++; }
        }
        return ng == 0 || nw == 0 || sg <= 0 ? 0 : (sw / nw) / (sg / ng);
    }

    /// <summary>
    /// Fraction of the intracranial mask's surface voxels that are brain (GM/WM) and have a 6-neighbour outside the
    /// mask brighter than the CSF/GM midpoint (bias-corrected with the tissue model's field where it has one). A correct
    /// ICV is wrapped around the brain by dark CSF and inner table, so this is small; a brain cut by a wrong search
    /// region shows its cut face here.
    /// </summary>
    public static double BrainCutFraction(BatchCohort.Imaging.Volumes.Volume image, BatchCohort.Imaging.Volumes.Mask icv, byte[] brainTissue, double csfGmMidpoint, float[] bias)
    {
        var s = icv.Shape;
        var m = icv.Data;
        var d = image.Data;
        long surface = 0, cut = 0;
        int sx = 1, sy = s.X, sz = s.X * s.Y;
        for (int z = 1; z < s.Z - 1; z++)
            for (int y = 1; y < s.Y - 1; y++)
            {
                int i = s.Index(1, y, z);
                for (int x = 1; x < s.X - 1; x++, i++)
                {
                    if (m[i] == 0) continue;
                    bool onSurface = false, brightOutside = false;
                    foreach (int o in new[] { sx, -sx, sy, -sy, sz, -sz })
                    {
                        int j = i + o;
                        if (m[j] != 0) continue;
                        onSurface = true;
                        double v = d[j] / (bias[i] > 0 ? bias[i] : 1);
                        if (v > csfGmMidpoint) brightOutside = true;
                    }
                    if (!onSurface) continue;
                    surface++;
                    if (brainTissue[i] != 0 && brightOutside) cut++;
                }
            }
        return surface == 0 ? 0 : (double)cut / surface;
    }
}
