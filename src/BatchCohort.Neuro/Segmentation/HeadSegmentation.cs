using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Processing.Labels;
using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Thresholding;

namespace BatchCohort.Neuro.Segmentation;

/// <summary>The head: everything that is not air.</summary>
public static class HeadSegmentation
{
    /// <summary>
    /// Voxels brighter than half of Otsu's threshold of the whole image, the largest 6-connected component, holes
    /// filled (so the dark skull, sinuses and CSF inside the scalp are head too). Half of Otsu because Otsu on a T1 head
    /// splits tissue from tissue rather than head from air (the air peak is far below both).
    /// </summary>
    public static Mask HeadMask(Volume image)
    {
        ArgumentNullException.ThrowIfNull(image);
        float t = Thresholds.Otsu(image.Data);
        var m = Mask.GreaterThan(image, t / 2);
        if (m.IsEmpty()) throw new ArgumentException("the image has no voxel above background: not a head");
        return BinaryMorphology.BinaryFillHoles(Labeling.LargestComponent(m));
    }
}
