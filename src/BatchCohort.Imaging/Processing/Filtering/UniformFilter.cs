using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Filtering;

public static partial class Filters
{
    /// <summary>
    /// scipy.ndimage.uniform_filter: the mean over a box of <paramref name="size"/> voxels per axis (separable,
    /// x then y then z; an axis of size 1 is left alone). Even sizes and <paramref name="origin"/> place the box as
    /// scipy does: voxels i − size/2 − origin … i + (size − 1 − size/2) − origin.
    /// </summary>
    public static Volume UniformFilter(Volume input, Size3 size, BoundaryMode mode = BoundaryMode.Reflect, double cval = 0.0,
        Offset3 origin = default, Volume? output = null)
    {
        Checks.Volume(input, nameof(input));
        Size(size, nameof(size));
        var k = new Kernel1D?[3];
        for (int a = 0; a < 3; a++)
        {
            if (size[a] > 4096) throw new ArgumentException($"size {size[a]} along axis {a} is absurd for a box filter", nameof(size));
            k[a] = size[a] > 1 ? new Kernel1D(Fill(size[a], (float)(1.0 / size[a])), origin[a], nameof(origin)) : null;
        }
        var o = Begin(input, output, mode, cval);
        Separable.Correlate(input.Data, o.Data, input.Shape, k[0], k[1], k[2], mode, (float)cval);
        return o;
    }
}
