using System.Numerics;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing;

namespace BatchCohort.Imaging.Processing.Exposure;

/// <summary>
/// An intensity range for <see cref="Intensity.RescaleIntensity"/>: the image's min/max, explicit values, percentiles
/// of the image (the usual <c>np.percentile(img, (2, 98))</c> idiom), or skimage's 'dtype' range of a float image
/// ([−1, 1], or [0, 1] when the input range is non-negative).
/// </summary>
public readonly record struct IntensityRange
{
    private IntensityRange(int kind, double a, double b) { Kind = kind; A = a; B = b; }

    internal int Kind { get; }
    internal double A { get; }
    internal double B { get; }

    public static IntensityRange Image => new(0, 0, 0);
    public static IntensityRange Dtype => new(1, 0, 0);
    public static IntensityRange Of(double lo, double hi) => new(2, lo, hi);
    public static IntensityRange Percentiles(double lo, double hi) => new(3, lo, hi);

    public override string ToString() => Kind switch
    {
        0 => "image", 1 => "dtype", 2 => FormattableString.Invariant($"({A}, {B})"), _ => FormattableString.Invariant($"percentiles ({A}, {B})"),
    };
}

public static partial class Intensity
{
    /// <summary>
    /// skimage.exposure.rescale_intensity(image, in_range, out_range) for a float32 image: clip to in_range, map
    /// linearly onto out_range, in float32 arithmetic as numpy does. Defaults: in_range = image, out_range = dtype.
    /// A degenerate in_range (min = max) clips to out_range, as skimage does.
    /// </summary>
    public static Volume RescaleIntensity(Volume input, IntensityRange? inRange = null, IntensityRange? outRange = null, Volume? output = null)
    {
        Checks.Volume(input, nameof(input));
        var inR = inRange ?? IntensityRange.Image;
        var outR = outRange ?? IntensityRange.Dtype;
        if (outR.Kind == 3) throw new ArgumentException("out_range cannot be percentiles", nameof(outRange));
        var o = Checks.Output(input, output, nameof(output), mayAlias: true);
        Checks.Finite(input, nameof(input));
        var (imin, imax) = Resolve(input, inR, nameof(inRange));
        double omin, omax;
        if (outR.Kind == 1) { omin = imin >= 0 ? 0 : -1; omax = 1; }
        else if (outR.Kind == 0) { var mm = MinMax.Of(input.Data); omin = mm.Min; omax = mm.Max; }
        else { omin = outR.A; omax = outR.B; CheckRange(omin, omax, nameof(outRange)); }
        var src = input.Data;
        var dst = o.Data;
        if (imin != imax)
        {
            float lo = (float)imin, hi = (float)imax, span = (float)(imax - imin), oscale = (float)(omax - omin), ooff = (float)omin;
            Parallelism.ForPerWorker(Chunks(src.Length), () => 0, (c, _) =>
            {
                var (a, e) = Chunk(src.Length, c);
                int i = a;
                // numpy's float32 steps, one vector at a time: clip, subtract, divide, multiply, add (no fused ops)
                var vlo = new Vector<float>(lo); var vhi = new Vector<float>(hi); var vspan = new Vector<float>(span);
                var vscale = new Vector<float>(oscale); var voff = new Vector<float>(ooff);
                for (; i <= e - Vector<float>.Count; i += Vector<float>.Count)
                {
                    var v = Vector.Min(Vector.Max(new Vector<float>(src, i), vlo), vhi);
                    var r = (v - vlo) / vspan * vscale + voff;
                    r.CopyTo(dst, i);
                }
                for (; i < e; i++)
                {
                    float v = Math.Clamp(src[i], lo, hi);
                    float t = (v - lo) / span;
                    float r = t * oscale;
                    dst[i] = r + ooff;
                }
            });
        }
        else
        {
            // skimage clips to in_range first, then to out_range
            float c = (float)imin, lo = (float)omin, hi = (float)omax;
            for (int i = 0; i < src.Length; i++) dst[i] = Math.Clamp(Math.Clamp(src[i], c, c), lo, hi);
        }
        return o;
    }

    private static (double, double) Resolve(Volume input, IntensityRange r, string name)
    {
        switch (r.Kind)
        {
            case 0:
            {
                var (a, b) = MinMax.Of(input.Data);
                return (a, b);
            }
            case 1:
                return (-1, 1); // skimage's float dtype range
            case 2:
                CheckRange(r.A, r.B, name);
                return (r.A, r.B);
            default:
            {
                if (!(r.A >= 0 && r.A <= 100 && r.B >= 0 && r.B <= 100 && r.A <= r.B))
                    throw new ArgumentException($"percentiles must satisfy 0 ≤ lo ≤ hi ≤ 100, got {r}", name);
                var p = Percentile(input.Data, r.A, r.B);
                return (p[0], p[1]);
            }
        }
    }

    private static void CheckRange(double lo, double hi, string name)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi)) throw new ArgumentException($"range ({lo}, {hi}) is not finite", name);
        if (lo > hi) throw new ArgumentException($"range ({lo}, {hi}) has min > max", name);
    }

    /// <summary>
    /// skimage.exposure.equalize_hist(image, nbins, mask): each voxel mapped through the cumulative distribution
    /// (of the masked voxels if a mask is given), linearly interpolated between bin centres (np.interp), float32 out.
    /// </summary>
    public static Volume EqualizeHist(Volume input, int nbins = 256, Mask? mask = null, Volume? output = null)
    {
        Checks.Volume(input, nameof(input));
        if (mask is not null && mask.Shape != input.Shape)
            throw new ArgumentException($"mask shape {mask.Shape} does not match the input's shape {input.Shape}", nameof(mask));
        var o = Checks.Output(input, output, nameof(output), mayAlias: true);
        float[] sample = input.Data;
        if (mask is not null)
        {
            long count = mask.CountNonZero();
            if (count == 0) throw new ArgumentException("mask is empty: no voxel to build the histogram from", nameof(mask));
            sample = new float[count];
            int j = 0;
            var m = mask.Data;
            for (int i = 0; i < m.Length; i++) if (m[i] != 0) sample[j++] = input.Data[i];
        }
        Checks.Finite(input, nameof(input));
        var (cdf, centers) = Cdf(sample, nbins, nameof(input));
        var xp = Array.ConvertAll(centers, c => (double)c);
        var fp = Array.ConvertAll(cdf, c => (double)c);
        var src = input.Data;
        var dst = o.Data;
        int n = xp.Length;
        // the centres are (nearly) uniform: guess the interval from the value, then fix it up against the exact
        // centres, so each voxel costs a multiply and two comparisons instead of a binary search
        double x0 = xp[0], inv = n > 1 ? (n - 1) / (xp[n - 1] - xp[0]) : 0;
        var slope = new double[Math.Max(n - 1, 1)];
        for (int j = 0; j < n - 1; j++) slope[j] = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
        Parallelism.ForPerWorker(Chunks(src.Length), () => 0, (c, _) =>
        {
            var (a, e) = Chunk(src.Length, c);
            for (int i = a; i < e; i++)
            {
                double x = src[i];
                if (!(x > xp[0] && x < xp[n - 1])) { dst[i] = (float)Interp(x, xp, fp); continue; }
                int j = (int)((x - x0) * inv);
                if (j > n - 2) j = n - 2;
                while (x < xp[j]) j--;
                while (x >= xp[j + 1]) j++;
                dst[i] = (float)(slope[j] * (x - xp[j]) + fp[j]);
            }
        });
        return o;
    }

    /// <summary>numpy.interp(x, xp, fp) for increasing xp (numpy's formula and edge rules).</summary>
    internal static double Interp(double x, double[] xp, double[] fp)
    {
        int n = xp.Length;
        if (x < xp[0]) return fp[0];
        if (x > xp[n - 1]) return fp[n - 1];
        if (x == xp[n - 1]) return fp[n - 1];
        if (n == 1) return fp[0];
        // xp[j] <= x < xp[j+1]
        int lo = 0, hi = n - 1;
        while (hi - lo > 1)
        {
            int mid = (lo + hi) >> 1;
            if (xp[mid] <= x) lo = mid; else hi = mid;
        }
        int j = lo;
        double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
        double r = slope * (x - xp[j]) + fp[j];
        if (double.IsNaN(r))
        {
            r = slope * (x - xp[j + 1]) + fp[j + 1];
            if (double.IsNaN(r) && fp[j] == fp[j + 1]) r = fp[j];
        }
        return r;
    }

    private static int Chunks(int n) => Math.Max(1, Math.Min(Parallelism.Degree * 4, n / 65536));

    private static (int, int) Chunk(int n, int c)
    {
        int k = Chunks(n);
        return ((int)((long)n * c / k), (int)((long)n * (c + 1) / k));
    }
}
