using System.Numerics;
using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Registration;

/// <summary>
/// One resolution level of a registration pyramid: the image smoothed and resampled onto an axis-aligned (RAS)
/// isotropic grid at <see cref="SpacingMm"/>, covering the source's world bounding box. World position of voxel v is
/// <see cref="Origin"/> + v·spacing. Also holds, interleaved per voxel as (value, ∂x, ∂y, ∂z), the central-difference
/// gradient in intensity per mm, so one 16-byte load per trilinear corner gives value and gradient together.
/// </summary>
internal sealed class PyramidLevel
{
    public PyramidLevel(Volume image, double spacingMm, (double X, double Y, double Z) origin)
    {
        Image = image;
        SpacingMm = spacingMm;
        Origin = origin;
        Packed = Pack(image.Data, image.Shape, spacingMm);
    }

    public Volume Image { get; }
    public Shape3 Shape => Image.Shape;
    public double SpacingMm { get; }
    public (double X, double Y, double Z) Origin { get; }

    /// <summary>(value, gx, gy, gz) per voxel, gradient in units per mm.</summary>
    public float[] Packed { get; }

    /// <summary>
    /// Builds the levels coarse → fine. Each level is smoothed with a Gaussian of σ = ½·√(s² − s_prev²) mm (the
    /// resolution it must lose, the usual "σ = half the shrink factor" rule) and resampled (linear) from the previous,
    /// finer level — a cascade, so the full-resolution image is smoothed only once, with the smallest kernel.
    /// </summary>
    public static PyramidLevel[] Build(Volume source, IReadOnlyList<double> spacingsMm)
    {
        var sorted = spacingsMm.OrderBy(s => s).ToArray(); // fine → coarse
        var levels = new PyramidLevel[sorted.Length];
        Volume current = source;
        double currentRes = Math.Max(source.Spacing.X, Math.Max(source.Spacing.Y, source.Spacing.Z));
        var (lo, hi) = WorldBounds(source);
        for (int i = 0; i < sorted.Length; i++)
        {
            double s = sorted[i];
            var smoothed = SmoothToResolution(current, s);
            var shape = new Shape3(
                Math.Max(2, (int)Math.Floor((hi.X - lo.X) / s) + 1),
                Math.Max(2, (int)Math.Floor((hi.Y - lo.Y) / s) + 1),
                Math.Max(2, (int)Math.Floor((hi.Z - lo.Z) / s) + 1));
            var aff = Affine.FromSpacing(s, s, s, lo.X, lo.Y, lo.Z);
            var img = Resample.ToGrid(smoothed, shape, aff, null, order: 1, fill: 0f, mode: BoundaryMode.Constant);
            levels[i] = new PyramidLevel(img, s, lo);
            current = img;
            currentRes = s;
        }
        _ = currentRes;
        Array.Reverse(levels); // coarse → fine
        return levels;
    }

    private static Volume SmoothToResolution(Volume v, double targetMm)
    {
        var sig = new double[3];
        bool any = false;
        for (int a = 0; a < 3; a++)
        {
            double sp = v.Spacing[a];
            double mm = targetMm > sp ? 0.5 * Math.Sqrt(targetMm * targetMm - sp * sp) : 0;
            sig[a] = mm / sp; // voxels
            any |= sig[a] > 0.1;
        }
        if (!any) return v;
        var d = (float[])v.Data.Clone();
        for (int a = 0; a < 3; a++) if (sig[a] > 0.1) GaussianAxis(d, v.Shape, a, sig[a]);
        return v.WithData(d);
    }

    /// <summary>World (RAS mm) bounding box of the voxel centres.</summary>
    public static ((double X, double Y, double Z) Lo, (double X, double Y, double Z) Hi) WorldBounds(Volume v)
    {
        double lx = double.MaxValue, ly = double.MaxValue, lz = double.MaxValue, hx = double.MinValue, hy = double.MinValue, hz = double.MinValue;
        foreach (var cx in new[] { 0, v.Shape.X - 1 })
            foreach (var cy in new[] { 0, v.Shape.Y - 1 })
                foreach (var cz in new[] { 0, v.Shape.Z - 1 })
                {
                    var p = v.Affine.Apply(cx, cy, cz);
                    lx = Math.Min(lx, p.X); ly = Math.Min(ly, p.Y); lz = Math.Min(lz, p.Z);
                    hx = Math.Max(hx, p.X); hy = Math.Max(hy, p.Y); hz = Math.Max(hz, p.Z);
                }
        return ((lx, ly, lz), (hx, hy, hz));
    }

    /// <summary>Separable Gaussian along one axis (σ in voxels, kernel to 3σ, edges extended by the nearest voxel), in place.</summary>
    internal static void GaussianAxis(float[] d, Shape3 s, int axis, double sigma)
    {
        int r = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var w = new float[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) sum += w[i + r] = (float)Math.Exp(-0.5 * i * i / (sigma * sigma));
        for (int i = 0; i < w.Length; i++) w[i] = (float)(w[i] / sum);
        int n = s[axis];
        if (n == 1) return;
        int X = s.X, Y = s.Y, Z = s.Z;
        if (axis == 0)
        {
            Parallelism.For(0, Z, () => new float[X], (z, _, line) =>
            {
                for (int y = 0; y < Y; y++)
                {
                    int o = X * (y + Y * z);
                    d.AsSpan(o, X).CopyTo(line);
                    for (int x = 0; x < X; x++)
                    {
                        float acc = 0;
                        for (int k = -r; k <= r; k++) acc += w[k + r] * line[Math.Clamp(x + k, 0, X - 1)];
                        d[o + x] = acc;
                    }
                }
                return line;
            }, _ => { });
            return;
        }
        int stride = axis == 1 ? X : X * Y;
        int outer = axis == 1 ? Z : Y;
        int outerStride = axis == 1 ? X * Y : X;
        Parallelism.For(0, outer, () => new float[(long)n * X], (o, _, buf) =>
        {
            int b = o * outerStride;
            for (int k = 0; k < n; k++) d.AsSpan(b + k * stride, X).CopyTo(buf.AsSpan(k * X, X));
            for (int k = 0; k < n; k++)
            {
                var dst = d.AsSpan(b + k * stride, X);
                dst.Clear();
                for (int j = -r; j <= r; j++)
                {
                    int src = Math.Clamp(k + j, 0, n - 1);
                    AddScaled(dst, buf.AsSpan(src * X, X), w[j + r]);
                }
            }
            return buf;
        }, _ => { });
    }

    private static void AddScaled(Span<float> dst, ReadOnlySpan<float> src, float a)
    {
        int i = 0, vw = Vector<float>.Count;
        var va = new Vector<float>(a);
        for (; i <= dst.Length - vw; i += vw)
            (new Vector<float>(dst.Slice(i)) + va * new Vector<float>(src.Slice(i))).CopyTo(dst.Slice(i));
        for (; i < dst.Length; i++) dst[i] += a * src[i];
    }

    private static float[] Pack(float[] d, Shape3 s, double spacing)
    {
        var p = new float[d.Length * 4L];
        int X = s.X, Y = s.Y, Z = s.Z;
        float inv2h = (float)(0.5 / spacing), invh = (float)(1 / spacing);
        Parallelism.For(0, Z, z =>
        {
            for (int y = 0; y < Y; y++)
                for (int x = 0; x < X; x++)
                {
                    int i = x + X * (y + Y * z);
                    float gx = x == 0 ? (d[i + 1] - d[i]) * invh : x == X - 1 ? (d[i] - d[i - 1]) * invh : (d[i + 1] - d[i - 1]) * inv2h;
                    float gy = y == 0 ? (d[i + X] - d[i]) * invh : y == Y - 1 ? (d[i] - d[i - X]) * invh : (d[i + X] - d[i - X]) * inv2h;
                    int XY = X * Y;
                    float gz = Z == 1 ? 0 : z == 0 ? (d[i + XY] - d[i]) * invh : z == Z - 1 ? (d[i] - d[i - XY]) * invh : (d[i + XY] - d[i - XY]) * inv2h;
                    long o = 4L * i;
                    p[o] = d[i]; p[o + 1] = gx; p[o + 2] = gy; p[o + 3] = gz;
                }
        });
        return p;
    }
}
