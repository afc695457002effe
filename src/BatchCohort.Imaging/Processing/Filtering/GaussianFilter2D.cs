using System.Buffers;

namespace BatchCohort.Imaging.Processing.Filtering;

public static partial class Filters
{
    /// <summary>
    /// scipy.ndimage.gaussian_filter on one 2-D image held in a span (x fastest, <paramref name="width"/> ×
    /// <paramref name="height"/>), e.g. one slice of a volume: σ per axis in pixels, same kernel, modes and pass order
    /// as <see cref="GaussianFilter"/>. Single-threaded and allocation-free (pooled scratch) — meant for per-slice
    /// work inside a caller's own parallel loop. <paramref name="dst"/> must not overlap <paramref name="src"/>.
    /// </summary>
    public static unsafe void GaussianFilter2D(ReadOnlySpan<float> src, Span<float> dst, int width, int height, double sigmaX, double sigmaY,
        BoundaryMode mode = BoundaryMode.Reflect, double cval = 0.0, double truncate = 4.0)
    {
        if (width < 1 || height < 1) throw new ArgumentException($"image size must be positive, got {width}×{height}", nameof(width));
        long n = (long)width * height;
        if (src.Length != n) throw new ArgumentException($"src has {src.Length} pixels but {width}×{height} needs {n}", nameof(src));
        if (dst.Length != n) throw new ArgumentException($"dst has {dst.Length} pixels but {width}×{height} needs {n}", nameof(dst));
        if (src.Overlaps(dst)) throw new ArgumentException("dst must not overlap src", nameof(dst));
        Checks.Sigma(new Vec3(sigmaX, sigmaY, 0), "sigma");
        Checks.Truncate(truncate, nameof(truncate));
        Checks.FiniteScalar(cval, nameof(cval));
        Boundary.Validate(mode, nameof(mode));
        Checks.Finite(src, nameof(src));
        var kx = GaussianKernel(sigmaX, 0, truncate, "sigma");
        var ky = GaussianKernel(sigmaY, 0, truncate, "sigma");
        float fc = (float)cval;
        var pool = ArrayPool<float>.Shared;
        float[] pad = pool.Rent(width + (kx?.Taps ?? 1));
        float[] mid = pool.Rent(ky is null ? 1 : (int)n);
        float[] constRow = pool.Rent(width);
        var rowsArr = new IntPtr[ky?.Taps ?? 1];
        try
        {
            constRow.AsSpan(0, width).Fill(mode == BoundaryMode.Constant ? fc : 0);
            fixed (float* ps = src, pd = dst, pp = pad, pm = mid, cr = constRow)
            fixed (IntPtr* rows = rowsArr)
            {
                float* xOut = ky is null ? pd : pm;
                if (kx is not null)
                    for (int y = 0; y < height; y++) Separable.CorrelateRow(ps + (long)y * width, xOut + (long)y * width, width, kx, mode, fc, pp);
                else if (ky is null) { src.CopyTo(dst); return; }
                float* yIn = kx is null ? ps : pm;
                if (ky is not null)
                    fixed (float* w = ky.W)
                        for (int y = 0; y < height; y++)
                        {
                            for (int t = 0; t < ky.Taps; t++)
                            {
                                int r = Boundary.Map(y + t - ky.Shift, height, mode);
                                rows[t] = (IntPtr)(r < 0 ? cr : yIn + (long)r * width);
                            }
                            Separable.CombineRows(pd + (long)y * width, (float**)rows, w, ky.Taps, width);
                        }
            }
        }
        finally
        {
            pool.Return(pad);
            pool.Return(mid);
            pool.Return(constRow);
        }
    }
}
