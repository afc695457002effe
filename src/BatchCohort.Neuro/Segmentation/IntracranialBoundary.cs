using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Thresholding;

namespace BatchCohort.Neuro.Segmentation;

/// <summary>
/// The subject's intracranial space found in its own image, outward from its own brain: on a T1 image the brain is
/// wrapped in a dark band (CSF, then the cortical inner table of the skull) that ends where the bright diploë, fat or
/// scalp begin (dark: at most the CSF/grey-matter midpoint of the subject's tissue model). The band is grown from the brain through dark voxels only (a geodesic reconstruction, so dark
/// structures not touching the brain — the outer table beyond the diploë, the air outside — never join), at most
/// <c>maxMm</c> from the closed brain envelope, and inside a search zone (the atlas ICV carried over and widely
/// dilated: the atlas only says where to look). The band's outer <see cref="Atlases.AtlasDerivation.InnerTableMm"/>
/// is the inner table and is removed. The atlas never decides where the boundary is.
/// </summary>
public static class IntracranialBoundary
{
    /// <summary>Closing radius (mm) that seals the brain envelope's fissures before the band is searched.</summary>
    public const double ClosingMm = 4;

    /// <param name="darkThreshold">Highest intensity that is "dark" (CSF or bone); NaN (what the pipeline passes): Otsu's
    /// threshold of the shell. The midpoint of the
    /// CSF and grey-matter centres of the subject's own tissue model. (Otsu's threshold of the shell, the atlas
    /// derivation's choice, splits bone from CSF instead when the shell holds no bright marrow or scalp.)</param>
    public static Mask FromImage(Volume subject, Mask brainEnvelope, Mask searchZone, double maxMm, float darkThreshold)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(brainEnvelope);
        ArgumentNullException.ThrowIfNull(searchZone);
        if (brainEnvelope.IsEmpty()) throw new ArgumentException("the brain mask is empty");
        var b0 = BinaryMorphology.BinaryFillHoles(brainEnvelope);
        var b1 = BinaryMorphology.BinaryFillHoles(BinaryMorphology.BinaryClosing(b0, ClosingMm).Or(b0));
        var reach = BinaryMorphology.BinaryDilation(b1, maxMm).And(searchZone.Or(b1));
        var shell = reach.AndNot(b1);
        var d = subject.Data;
        if (shell.IsEmpty()) throw new ArgumentException("no voxels around the brain: it fills the search zone");
        if (float.IsNaN(darkThreshold))
        {
            // NaN: Otsu's threshold of the shell around the brain (measured better on Colin27-derived subjects)
            var vals = new List<float>();
            for (int i = 0; i < d.Length; i++) if (shell.Data[i] != 0) vals.Add(d[i]);
            darkThreshold = BatchCohort.Imaging.Processing.Thresholding.Thresholds.Otsu(vals.ToArray());
        }
        // dark voxels of the shell, plus the envelope itself (the seed)
        var passable = new byte[d.Length];
        for (int i = 0; i < d.Length; i++)
            passable[i] = (byte)(b1.Data[i] != 0 || (shell.Data[i] != 0 && d[i] <= darkThreshold) ? 1 : 0);
        var grown = BinaryMorphology.BinaryDilationToConvergence(b1, StructuringElement.Neighbourhood6, b1.WithData(passable));
        var u = BinaryMorphology.BinaryFillHoles(grown);
        var inner = BinaryMorphology.BinaryErosion(u, Atlases.AtlasDerivation.InnerTableMm);
        return BinaryMorphology.BinaryFillHoles(inner.Or(b1));
    }
}
