using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Filtering;

namespace BatchCohort.Imaging.Processing.Thresholding;

/// <summary>How <see cref="Thresholds.Local"/> summarises each block (skimage threshold_local's <c>method</c>).</summary>
public enum LocalMethod
{
    /// <summary>Gaussian-weighted mean, σ = (block_size − 1)/6 per axis (skimage's default).</summary>
    Gaussian,
    /// <summary>Plain mean over the block (uniform filter).</summary>
    Mean,
}

public static partial class Thresholds
{
    /// <summary>
    /// skimage.filters.threshold_local(image, block_size, method, offset, mode='reflect', cval): a threshold per voxel,
    /// the weighted mean of its block minus <paramref name="offset"/>; foreground = input &gt; threshold.
    /// <paramref name="blockSize"/> must be odd on every axis. Gaussian: σ = (b − 1)/6 voxels, truncate 4.
    /// </summary>
    public static Volume Local(Volume input, Size3 blockSize, LocalMethod method = LocalMethod.Gaussian, double offset = 0,
        BoundaryMode mode = BoundaryMode.Reflect, double cval = 0, Volume? output = null)
    {
        Checks.Volume(input, nameof(input));
        for (int a = 0; a < 3; a++)
        {
            if (blockSize[a] < 1) throw new ArgumentException($"block size must be ≥ 1, got {blockSize[a]} along axis {a}", nameof(blockSize));
            if (blockSize[a] % 2 == 0) throw new ArgumentException($"block size must be odd, got {blockSize[a]} along axis {a}", nameof(blockSize));
        }
        Checks.FiniteScalar(offset, nameof(offset));
        Volume o = method switch
        {
            LocalMethod.Gaussian => Filters.GaussianFilter(input, new Vec3((blockSize.X - 1) / 6.0, (blockSize.Y - 1) / 6.0, (blockSize.Z - 1) / 6.0),
                mode: mode, cval: cval, output: output),
            LocalMethod.Mean => Filters.UniformFilter(input, blockSize, mode: mode, cval: cval, output: output),
            _ => throw new ArgumentException($"unknown method {method}", nameof(method)),
        };
        if (offset != 0)
        {
            float off = (float)offset;
            var d = o.Data;
            System.Numerics.Tensors.TensorPrimitives.Subtract(d, off, d);
        }
        return o;
    }
}
