using System.Buffers;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing;

namespace BatchCohort.Imaging.Processing.Filtering;

public static partial class Filters
{
    /// <summary>
    /// scipy.ndimage.convolve with a small 3-D kernel <paramref name="weights"/>[x, y, z]: the kernel is flipped on
    /// every axis and, as scipy does, the origin is negated and shifted by −1 on axes of even length, then correlated.
    /// </summary>
    public static Volume Convolve(Volume input, double[,,] weights, BoundaryMode mode = BoundaryMode.Reflect, double cval = 0.0,
        Offset3 origin = default, Volume? output = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int nx = weights.GetLength(0), ny = weights.GetLength(1), nz = weights.GetLength(2);
        var flipped = new double[nx, ny, nz];
        for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++)
        for (int k = 0; k < nz; k++)
            flipped[i, j, k] = weights[nx - 1 - i, ny - 1 - j, nz - 1 - k];
        var o2 = new Offset3(-origin.X - (nx % 2 == 0 ? 1 : 0), -origin.Y - (ny % 2 == 0 ? 1 : 0), -origin.Z - (nz % 2 == 0 ? 1 : 0));
        return CorrelateCore(input, flipped, mode, cval, o2, output, nameof(weights), origin);
    }

    /// <summary>
    /// scipy.ndimage.correlate with a small 3-D kernel <paramref name="weights"/>[x, y, z]:
    /// out[i] = Σ_k w[k]·in[i + k − len/2 − origin] per axis, boundary by <paramref name="mode"/>. Weights with
    /// |w| ≤ 2.2e-16 are skipped, as scipy's footprint does.
    /// </summary>
    public static Volume Correlate(Volume input, double[,,] weights, BoundaryMode mode = BoundaryMode.Reflect, double cval = 0.0,
        Offset3 origin = default, Volume? output = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return CorrelateCore(input, weights, mode, cval, origin, output, nameof(weights), origin);
    }

    private static unsafe Volume CorrelateCore(Volume input, double[,,] weights, BoundaryMode mode, double cval, Offset3 origin,
        Volume? output, string wName, Offset3 userOrigin)
    {
        Checks.Volume(input, nameof(input));
        int nx = weights.GetLength(0), ny = weights.GetLength(1), nz = weights.GetLength(2);
        if (nx == 0 || ny == 0 || nz == 0) throw new ArgumentException("kernel is empty", wName);
        if ((long)nx * ny * nz > 100_000) throw new ArgumentException($"kernel {nx}×{ny}×{nz} is too large for direct correlation (use separable filters)", wName);
        foreach (var w in weights) if (!double.IsFinite(w)) throw new ArgumentException("kernel contains NaN or ±Inf", wName);
        int[] len = { nx, ny, nz };
        int[] shift = new int[3];
        for (int a = 0; a < 3; a++)
        {
            shift[a] = len[a] / 2 + origin[a];
            if (shift[a] < 0 || shift[a] >= len[a])
                throw new ArgumentException($"origin {userOrigin[a]} along axis {a} is invalid for a kernel of length {len[a]}", "origin");
        }
        var o = Begin(input, output, mode, cval);
        // per (ky, kz): the x weights, skipping rows that are all (near) zero
        var rowsW = new List<(int Ky, int Kz, float[] W)>();
        for (int k = 0; k < nz; k++)
        for (int j = 0; j < ny; j++)
        {
            var w = new float[nx];
            bool any = false;
            for (int i = 0; i < nx; i++)
            {
                double v = weights[i, j, k];
                if (Math.Abs(v) > 2.220446049250313e-16) { w[i] = (float)v; any = true; }
            }
            if (any) rowsW.Add((j, k, w));
        }
        var src = input.Data;
        var dst = o.Data;
        var s = input.Shape;
        int X = s.X, Y = s.Y, Z = s.Z, slice = X * Y, padLen = X + nx - 1;
        float fc = (float)cval;
        var constRow = new float[X];
        if (mode == BoundaryMode.Constant) Array.Fill(constRow, fc);
        Parallelism.ForPerWorker(Z, () => ArrayPool<float>.Shared.Rent(padLen), (z, padArr) =>
        {
            fixed (float* ps = src, pd = dst, pad = padArr, cr = constRow)
            {
                for (int y = 0; y < Y; y++)
                {
                    float* orow = pd + (long)z * slice + (long)y * X;
                    new Span<float>(orow, X).Clear();
                    foreach (var (ky, kz, w) in rowsW)
                    {
                        int sy = Boundary.Map(y + ky - shift[1], Y, mode);
                        int sz = Boundary.Map(z + kz - shift[2], Z, mode);
                        float* row = sy < 0 || sz < 0 ? cr : ps + (long)sz * slice + (long)sy * X;
                        Separable.PadRow(row, X, shift[0], nx, mode, fc, pad);
                        fixed (float* pw = w) Separable.CorrelatePadded(pad, orow, pw, nx, X, accumulate: true);
                    }
                }
            }
        }, padArr => ArrayPool<float>.Shared.Return(padArr));
        return o;
    }
}
