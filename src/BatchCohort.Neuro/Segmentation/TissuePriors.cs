using System.Runtime.CompilerServices;
using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Processing.Filtering;
using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Neuro.Atlases;

namespace BatchCohort.Neuro.Segmentation;

/// <summary>
/// Spatial tissue priors on a subject's grid: per voxel the atlas's probability of CSF, grey and white matter (they sum
/// to 1). Made from an atlas's tissue classes (<see cref="Atlas.TissueClasses"/>) smoothed by a Gaussian, normalised over
/// the three intracranial classes, and carried to the subject by the registration's affine (trilinear), as the tissue
/// probability maps of SPM's unified segmentation and FSL FAST's priors are, simplified: no non-linear warp, no
/// population maps — one atlas's own classes, blurred to stand for a population. Where the atlas has no intracranial
/// tissue near a voxel the priors are uniform (1/3 each). How strongly they count is
/// <see cref="TissueClassifierSettings.PriorWeight"/>, applied in <see cref="TissueClassifier.Classify"/>.
/// </summary>
public sealed class TissuePriors
{
    /// <param name="csf">P(CSF) per voxel of <paramref name="shape"/>.</param>
    /// <param name="gm">P(grey matter) per voxel.</param>
    /// <param name="wm">P(white matter) per voxel. The three are normalised here to sum to 1 (uniform where all are 0).</param>
    public TissuePriors(Shape3 shape, float[] csf, float[] gm, float[] wm)
    {
        ArgumentNullException.ThrowIfNull(csf);
        ArgumentNullException.ThrowIfNull(gm);
        ArgumentNullException.ThrowIfNull(wm);
        if (csf.Length != shape.Count || gm.Length != shape.Count || wm.Length != shape.Count)
            throw new ArgumentException($"the prior maps must each hold {shape.Count} voxels of the {shape} grid");
        Shape = shape;
        Csf = new float[shape.Count];
        Gm = new float[shape.Count];
        Wm = new float[shape.Count];
        for (int i = 0; i < Csf.Length; i++)
        {
            double c = Clamp(csf[i]), g = Clamp(gm[i]), w = Clamp(wm[i]), s = c + g + w;
            if (s < 1e-3) { Csf[i] = Gm[i] = Wm[i] = 1f / 3; continue; }
            Csf[i] = (float)(c / s); Gm[i] = (float)(g / s); Wm[i] = (float)(w / s);
        }
    }

    private static double Clamp(float v) => float.IsFinite(v) && v > 0 ? v : 0;

    public Shape3 Shape { get; }
    /// <summary>P(CSF) per voxel.</summary>
    public float[] Csf { get; }
    /// <summary>P(grey matter) per voxel.</summary>
    public float[] Gm { get; }
    /// <summary>P(white matter) per voxel.</summary>
    public float[] Wm { get; }

    private static readonly ConditionalWeakTable<Atlas, Dictionary<double, Volume[]>> Maps = new();

    /// <summary>The atlas's smoothed class maps (CSF, GM, WM; indicator of each class convolved with a Gaussian of
    /// <paramref name="fwhmMm"/> mm FWHM), on the atlas grid; computed once per atlas and width.</summary>
    public static IReadOnlyList<Volume> AtlasMaps(Atlas atlas, double fwhmMm)
    {
        ArgumentNullException.ThrowIfNull(atlas);
        if (!(fwhmMm >= 0) || !double.IsFinite(fwhmMm)) throw new ArgumentException($"prior FWHM must be ≥ 0 mm, got {fwhmMm}", nameof(fwhmMm));
        var byWidth = Maps.GetOrCreateValue(atlas);
        lock (byWidth)
        {
            if (byWidth.TryGetValue(fwhmMm, out var maps)) return maps;
            var head = atlas.Head;
            var cls = atlas.TissueClasses;
            maps = new Volume[3];
            double sigma = fwhmMm / (2 * Math.Sqrt(2 * Math.Log(2)));
            for (int c = 0; c < 3; c++)
            {
                byte label = (byte)(c + 1);   // TissueClass.Csf, GreyMatter, WhiteMatter
                var d = new float[cls.Length];
                for (int i = 0; i < d.Length; i++) d[i] = cls[i] == label ? 1f : 0f;
                var ind = new Volume(head.Shape, d, head.Affine, head.Spacing);
                maps[c] = sigma > 0 ? Filters.GaussianFilter(ind, sigma, mode: BoundaryMode.Constant, unit: LengthUnit.Millimetres) : ind;
            }
            byWidth[fwhmMm] = maps;
            return maps;
        }
    }

    /// <summary>The atlas's smoothed class maps carried onto <paramref name="subject"/>'s grid by
    /// <paramref name="atlasToSubject"/> (trilinear; 0 outside the atlas grid), normalised.</summary>
    public static TissuePriors FromAtlas(Atlas atlas, Volume subject, Affine atlasToSubject, double fwhmMm)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(atlasToSubject);
        var maps = AtlasMaps(atlas, fwhmMm);
        var moved = new float[3][];
        for (int c = 0; c < 3; c++)
            moved[c] = Resample.ToGrid(maps[c], subject.Shape, subject.Affine, atlasToSubject, order: 1, fill: 0f).Data;
        return new TissuePriors(subject.Shape, moved[0], moved[1], moved[2]);
    }
}
