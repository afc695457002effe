using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Thresholding;

namespace BatchCohort.Neuro.Segmentation;

/// <summary>
/// The intracranial space found in a T1 image outward from its brain, by one definition used for subjects and for the
/// derivation of an atlas's ICV alike (pipeline 0.4.0; the band kept inside the sealed head since 0.5.0):
/// <list type="number">
/// <item>the brain envelope, closed by <see cref="ClosingMm"/> and filled, is the seed;</item>
/// <item>the <b>dark band</b> around it: voxels at most <c>maxMm</c> from the envelope (and inside the search zone) no
/// brighter than Otsu's threshold of that shell (CSF and cortical bone are dark; diploë, fat and scalp bright),
/// grown geodesically from the seed, so dark structures that do not touch the brain's band never join;</item>
/// <item>the band holds CSF and the inner table of the skull, and bone is darker than CSF on T1 (cortical bone gives
/// almost no signal). The <b>inner table</b> is where the profile falls below the midpoint between the band's two
/// intensity levels (a two-centre k-means of the band's voxels that do not touch the brain — those are partial-volume grey matter — giving a CSF and a bone level). The ICV is the seed grown geodesically through
/// band voxels above that midpoint; holes filled.</item>
/// </list>
/// The midpoint is the partial-volume boundary: a voxel straddling CSF and bone lies above it when more than half of it
/// is CSF, so the boundary does not move with voxel size (an erosion by a fixed shell removed one layer at 1 mm and
/// nothing at 2 mm). The image's air is as dark as bone, so the band never runs out of the head either; no head mask
/// is involved (the phantom's skull, reaching the air through pinholes, is outside a thresholded head mask).
/// </summary>
public static class IntracranialBoundary
{
    /// <summary>Closing radius (mm) that seals the brain envelope's fissures before the band is searched.</summary>
    public const double ClosingMm = 4;

    /// <summary>Closing radius (mm) that seals the head mask before it bounds the dark band (pipeline 0.5.0). Where the
    /// band reached the air (a brain envelope near a thin skull base or a 2 mm-blurred skull), the air's voxels pulled
    /// the band's bone level down (on a 2 mm phantom-made subject from 90 to 61), the CSF/bone midpoint with it, and
    /// the ICV grew into the skull (+8 %). Air is never intracranial, so it is no longer part of the band. 5 mm leaves
    /// Colin27's own derivation unchanged (its band is the same voxel for voxel).</summary>
    public const double SealMm = 5;

    /// <summary>The result with the thresholds it used (for notes and QC).</summary>
    public sealed record Result(Mask Icv, float DarkThreshold, float CsfLevel, float BoneLevel)
    {
        /// <summary>The CSF/bone midpoint: the inner table's intensity boundary.</summary>
        public float InnerTableThreshold => (CsfLevel + BoneLevel) / 2;
    }

    /// <param name="searchZone">Where the boundary may lie (the atlas ICV carried over and dilated; for an atlas's own
    /// derivation, null: anywhere within <paramref name="maxMm"/>).</param>
    /// <param name="darkThreshold">Highest intensity that is "dark" (CSF or bone); NaN: Otsu's threshold of the shell.</param>
    /// <param name="headMask">The image's <see cref="HeadSegmentation.HeadMask"/> when the caller has it already; null:
    /// computed here.</param>
    public static Mask FromImage(Volume subject, Mask brainEnvelope, Mask? searchZone, double maxMm, float darkThreshold, Mask? headMask = null) =>
        Find(subject, brainEnvelope, searchZone, maxMm, darkThreshold, headMask).Icv;

    public static Result Find(Volume subject, Mask brainEnvelope, Mask? searchZone, double maxMm, float darkThreshold, Mask? headMask = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(brainEnvelope);
        if (brainEnvelope.IsEmpty()) throw new ArgumentException("the brain mask is empty");
        var b0 = BinaryMorphology.BinaryFillHoles(brainEnvelope);
        var b1 = BinaryMorphology.BinaryFillHoles(BinaryMorphology.BinaryClosing(b0, ClosingMm).Or(b0));
        var reach = BinaryMorphology.BinaryDilation(b1, maxMm);
        if (searchZone is not null) reach = reach.And(searchZone.Or(b1));
        var shell = reach.AndNot(b1);
        var d = subject.Data;
        if (shell.IsEmpty()) throw new ArgumentException("no voxels around the brain: it fills the search zone");
        var sd = shell.Data;
        if (float.IsNaN(darkThreshold))
        {
            var vals = new List<float>();
            for (int i = 0; i < d.Length; i++) if (sd[i] != 0) vals.Add(d[i]);
            darkThreshold = Thresholds.Otsu(vals.ToArray());
        }
        // 1. the dark band (CSF + bone) grown from the brain
        //    (never out into the air around the head: the head mask, sealed by a closing of SealMm so pinholes in a thin
        //    skull do not let the air in, bounds it)
        var hm = headMask ?? HeadSegmentation.HeadMask(subject);
        var inHead = BinaryMorphology.BinaryFillHoles(BinaryMorphology.BinaryClosing(hm, SealMm).Or(hm)).Data;
        var passable = new byte[d.Length];
        for (int i = 0; i < d.Length; i++)
            passable[i] = (byte)(b1.Data[i] != 0 || (sd[i] != 0 && d[i] <= darkThreshold && inHead[i] != 0) ? 1 : 0);
        var band = BinaryMorphology.BinaryDilationToConvergence(b1, StructuringElement.Neighbourhood6, b1.WithData(passable)).AndNot(b1);
        // 2. its two levels, CSF (brighter) and bone (darker): a two-centre k-means of the band's voxels that do not
        //    touch the brain (those are partial-volume grey matter, which would pull the CSF level up)
        var touching = BinaryMorphology.BinaryDilation(b1, StructuringElement.Neighbourhood26, iterations: 1);
        var bandVals = new List<float>();
        for (int i = 0; i < d.Length; i++) if (band.Data[i] != 0 && touching.Data[i] == 0) bandVals.Add(d[i]);
        if (bandVals.Count < 10) return new Result(b1, darkThreshold, darkThreshold, darkThreshold);
        var c = Atlases.AtlasDerivation.KMeans1D(bandVals.ToArray(), 2);
        float bone = (float)c[0], csf = (float)c[1];
        float cut = (bone + csf) / 2;
        var csfPass = new byte[d.Length];
        for (int i = 0; i < d.Length; i++)
            csfPass[i] = (byte)(b1.Data[i] != 0 || (band.Data[i] != 0 && d[i] > cut) ? 1 : 0);
        var grown = BinaryMorphology.BinaryDilationToConvergence(b1, StructuringElement.Neighbourhood6, b1.WithData(csfPass));
        return new Result(BinaryMorphology.BinaryFillHoles(grown), darkThreshold, csf, bone);
    }
}
