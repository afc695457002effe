using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Filtering;

namespace BatchCohort.Imaging.Processing.Geometry;

/// <summary>
/// B-spline prefilter (scipy.ndimage.spline_filter / spline_filter1d): turns samples into B-spline coefficients so
/// that the spline of that order passes through the samples. Recursive causal/anti-causal IIR filtering with exact
/// boundary initialisation (Unser 1999; Briand &amp; Monasse 2018): 'mirror' and 'constant' use whole-sample
/// symmetric extension, 'reflect' and 'nearest' half-sample symmetric — the conventions scipy 1.6+ uses.
/// Lines are filtered in double precision; coefficients are stored as float32.
/// </summary>
public static class SplineFilter
{
    /// <summary>scipy pads by this many edge values before prefiltering in 'nearest' mode.</summary>
    public const int NearestPad = 12;

    internal static double[] Poles(int order) => order switch
    {
        2 => new[] { Math.Sqrt(8.0) - 3.0 },
        3 => new[] { Math.Sqrt(3.0) - 2.0 },
        4 => new[]
        {
            Math.Sqrt(664.0 - Math.Sqrt(438976.0)) + Math.Sqrt(304.0) - 19.0,
            Math.Sqrt(664.0 + Math.Sqrt(438976.0)) - Math.Sqrt(304.0) - 19.0,
        },
        5 => new[]
        {
            Math.Sqrt(67.5 - Math.Sqrt(4436.25)) + Math.Sqrt(26.25) - 6.5,
            Math.Sqrt(67.5 + Math.Sqrt(4436.25)) - Math.Sqrt(26.25) - 6.5,
        },
        _ => Array.Empty<double>(),
    };

    /// <summary>
    /// spline_filter(input, order, mode) on a whole volume: filters along every axis of length &gt; 1.
    /// Returns a new array of coefficients (the input is not changed). 'nearest' is not padded here
    /// (scipy's spline_filter does not pad either; the interpolation functions do).
    /// </summary>
    public static float[] Apply(float[] data, Shape3 shape, int order = 3, BoundaryMode mode = BoundaryMode.Mirror)
    {
        GeometryChecks.Data(data, shape, nameof(data));
        if (order < 0 || order > 5) throw new ArgumentOutOfRangeException(nameof(order), order, "spline order must be in 0..5");
        Interpolation.CheckMode(mode);
        var c = (float[])data.Clone();
        if (order > 1)
            for (int axis = 0; axis < 3; axis++) FilterAxisInPlace(c, shape, axis, order, mode);
        return c;
    }

    /// <summary>spline_filter1d: filters along one axis only.</summary>
    public static float[] Apply1D(float[] data, Shape3 shape, int axis, int order = 3, BoundaryMode mode = BoundaryMode.Mirror)
    {
        GeometryChecks.Data(data, shape, nameof(data));
        if (axis is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(axis), axis, "axis must be 0 (x), 1 (y) or 2 (z)");
        if (order < 0 || order > 5) throw new ArgumentOutOfRangeException(nameof(order), order, "spline order must be in 0..5");
        Interpolation.CheckMode(mode);
        var c = (float[])data.Clone();
        if (order > 1) FilterAxisInPlace(c, shape, axis, order, mode);
        return c;
    }

    /// <summary>In-place prefilter along one axis (no argument checks; internal hot path).</summary>
    internal static void FilterAxisInPlace(float[] c, Shape3 shape, int axis, int order, BoundaryMode mode)
    {
        int n = shape[axis];
        if (n <= 1 || order <= 1) return;
        var poles = Poles(order);
        bool reflect = mode is BoundaryMode.Reflect or BoundaryMode.Nearest;
        int X = shape.X, Y = shape.Y, Z = shape.Z;
        if (axis == 0)
        {
            // contiguous lines: gather 8 lines of a slab side by side (a small transpose), filter them as rows of
            // 8 with the same SIMD row code as the other axes, scatter back
            const int W = 8;
            Parallelism.For(0, Z, () => (new float[X * W], new float[W]), (z, _, bufs) =>
            {
                var (buf, tmp) = bufs;
                for (int y0 = 0; y0 < Y; y0 += W)
                {
                    int w = Math.Min(W, Y - y0);
                    int baseOff = X * (y0 + Y * z);
                    for (int j = 0; j < w; j++)
                    {
                        int src = baseOff + j * X;
                        for (int k = 0; k < X; k++) buf[k * w + j] = c[src + k];
                    }
                    FilterRowsInPlace(buf.AsSpan(0, X * w), X, w, w, poles, reflect, tmp);
                    for (int j = 0; j < w; j++)
                    {
                        int dst = baseOff + j * X;
                        for (int k = 0; k < X; k++) c[dst + k] = buf[k * w + j];
                    }
                }
                return bufs;
            }, _ => { });
            return;
        }
        // axes y and z: the lines are strided; filter X lines at once, in place in float32, each step one SIMD
        // row operation (row k of the block = element k of every line), so memory streams row by row.
        int stride = axis == 1 ? X : X * Y;
        int outer = axis == 1 ? Z : Y;
        int outerStride = axis == 1 ? X * Y : X;
        Parallelism.For(0, outer, () => new float[X], (o, _, tmp) =>
        {
            FilterRowsInPlace(c.AsSpan(o * outerStride), n, X, stride, poles, reflect, tmp);
            return tmp;
        }, _ => { });
    }

    /// <summary>
    /// In-place filter of <paramref name="w"/> lines stored as n rows of w floats, row k at k·stride. The gain is
    /// folded into the causal pass; boundary initialisations as in <see cref="FilterLine"/>.
    /// </summary>
    private static void FilterRowsInPlace(Span<float> d, int n, int w, int stride, double[] poles, bool reflect, float[] tmp)
    {
        double gainAll = 1;
        foreach (var z in poles) gainAll *= (1 - z) * (1 - 1 / z);
        bool first = true;
        foreach (var zd in poles)
        {
            float gain = first ? (float)gainAll : 1f;
            first = false;
            float z = (float)zd;
            // causal initial value (before gain) into tmp
            Array.Clear(tmp);
            int h = Horizon(zd);
            var acc = tmp.AsSpan(0, w);
            if (!reflect)
            {
                if (h < n) { double zk = 1; for (int k = 0; k < h; k++) { AddScaledF(acc, d.Slice(k * stride, w), (float)zk); zk *= zd; } }
                else
                {
                    double zk = 1;
                    for (int k = 0; k <= n - 1; k++) { AddScaledF(acc, d.Slice(k * stride, w), (float)zk); zk *= zd; }
                    for (int k = n; k <= 2 * n - 3; k++) { AddScaledF(acc, d.Slice((2 * n - 2 - k) * stride, w), (float)zk); zk *= zd; }
                    ScaleF(acc, (float)(1 / (1 - Math.Pow(zd, 2 * n - 2))));
                }
            }
            else
            {
                AddScaledF(acc, d.Slice(0, w), 1f);
                double zk = zd;
                if (h < n) { for (int k = 1; k <= h; k++) { AddScaledF(acc, d.Slice((k - 1) * stride, w), (float)zk); zk *= zd; } }
                else
                {
                    for (int k = 1; k <= n; k++) { AddScaledF(acc, d.Slice((k - 1) * stride, w), (float)zk); zk *= zd; }
                    for (int k = n + 1; k <= 2 * n - 1; k++) { AddScaledF(acc, d.Slice((2 * n - k) * stride, w), (float)zk); zk *= zd; }
                    ScaleF(acc, (float)(1 / (1 - Math.Pow(zd, 2 * n))));
                }
            }
            // c[0] = gain·init; c[k] = gain·s[k] + z·c[k−1]
            var row0 = d.Slice(0, w);
            for (int i = 0; i < w; i++) row0[i] = gain * acc[i];
            for (int k = 1; k < n; k++) CausalRow(d.Slice(k * stride, w), d.Slice((k - 1) * stride, w), gain, z);
            var last = d.Slice((n - 1) * stride, w);
            if (reflect) ScaleF(last, (float)(zd / (zd - 1)));
            else
            {
                var before = d.Slice((n - 2) * stride, w);
                float f = (float)(zd / (zd * zd - 1));
                for (int i = 0; i < w; i++) last[i] = f * (last[i] + z * before[i]);
            }
            for (int k = n - 2; k >= 0; k--) AntiCausalRowF(d.Slice(k * stride, w), d.Slice((k + 1) * stride, w), z);
        }
    }

    private static void AddScaledF(Span<float> acc, ReadOnlySpan<float> src, float a)
    {
        int i = 0, vw = System.Numerics.Vector<float>.Count;
        var va = new System.Numerics.Vector<float>(a);
        for (; i <= acc.Length - vw; i += vw)
            (new System.Numerics.Vector<float>(acc.Slice(i)) + va * new System.Numerics.Vector<float>(src.Slice(i))).CopyTo(acc.Slice(i));
        for (; i < acc.Length; i++) acc[i] += a * src[i];
    }

    private static void ScaleF(Span<float> x, float a)
    {
        int i = 0, vw = System.Numerics.Vector<float>.Count;
        var va = new System.Numerics.Vector<float>(a);
        for (; i <= x.Length - vw; i += vw) (new System.Numerics.Vector<float>(x.Slice(i)) * va).CopyTo(x.Slice(i));
        for (; i < x.Length; i++) x[i] *= a;
    }

    // cur = gain·cur + z·prev
    private static void CausalRow(Span<float> cur, ReadOnlySpan<float> prev, float gain, float z)
    {
        int i = 0, vw = System.Numerics.Vector<float>.Count;
        var vg = new System.Numerics.Vector<float>(gain);
        var vz = new System.Numerics.Vector<float>(z);
        for (; i <= cur.Length - vw; i += vw)
            (vg * new System.Numerics.Vector<float>(cur.Slice(i)) + vz * new System.Numerics.Vector<float>(prev.Slice(i))).CopyTo(cur.Slice(i));
        for (; i < cur.Length; i++) cur[i] = gain * cur[i] + z * prev[i];
    }

    // cur = z·(next − cur)
    private static void AntiCausalRowF(Span<float> cur, ReadOnlySpan<float> next, float z)
    {
        int i = 0, vw = System.Numerics.Vector<float>.Count;
        var vz = new System.Numerics.Vector<float>(z);
        for (; i <= cur.Length - vw; i += vw)
            (vz * (new System.Numerics.Vector<float>(next.Slice(i)) - new System.Numerics.Vector<float>(cur.Slice(i)))).CopyTo(cur.Slice(i));
        for (; i < cur.Length; i++) cur[i] = z * (next[i] - cur[i]);
    }

    /// <summary>Filters one line in place. reflect: half-sample symmetric boundary; otherwise whole-sample (mirror).</summary>
    internal static void FilterLine(Span<double> c, ReadOnlySpan<double> poles, bool reflect)
    {
        int n = c.Length;
        if (n <= 1) return;
        double gain = 1;
        foreach (var z in poles) gain *= (1 - z) * (1 - 1 / z);
        for (int i = 0; i < n; i++) c[i] *= gain;
        foreach (var z in poles)
        {
            c[0] = reflect ? CausalInitReflect(c, z) : CausalInitMirror(c, z);
            for (int i = 1; i < n; i++) c[i] += z * c[i - 1];
            c[n - 1] = reflect ? c[n - 1] * z / (z - 1) : z / (z * z - 1) * (c[n - 1] + z * c[n - 2]);
            for (int i = n - 2; i >= 0; i--) c[i] = z * (c[i + 1] - c[i]);
        }
    }

    /// <summary>Number of terms after which |z|^k is below double precision.</summary>
    private static int Horizon(double z) => (int)Math.Ceiling(Math.Log(1e-16) / Math.Log(Math.Abs(z)));

    // Whole-sample symmetric extension s[-k] = s[k], period 2n−2:
    //   c+[0] = Σ_{k≥0} z^k s[-k] = (Σ_{k=0}^{n−1} z^k s[k] + Σ_{k=n}^{2n−3} z^k s[2n−2−k]) / (1 − z^{2n−2})
    private static double CausalInitMirror(ReadOnlySpan<double> s, double z)
    {
        int n = s.Length;
        int h = Horizon(z);
        double sum = 0, zk = 1;
        if (h < n)
        {
            for (int k = 0; k < h; k++) { sum += zk * s[k]; zk *= z; }
            return sum;
        }
        for (int k = 0; k <= n - 1; k++) { sum += zk * s[k]; zk *= z; }
        for (int k = n; k <= 2 * n - 3; k++) { sum += zk * s[2 * n - 2 - k]; zk *= z; }
        return sum / (1 - Math.Pow(z, 2 * n - 2));
    }

    // Half-sample symmetric extension s[-1-k] = s[k], period 2n:
    //   c+[0] = s[0] + Σ_{k=1}^{n} z^k s[k−1] + Σ_{k=n+1}^{2n−1} z^k s[2n−k], all over (1 − z^{2n})
    private static double CausalInitReflect(ReadOnlySpan<double> s, double z)
    {
        int n = s.Length;
        int h = Horizon(z);
        double sum = s[0], zk = z;
        if (h < n)
        {
            for (int k = 1; k <= h; k++) { sum += zk * s[k - 1]; zk *= z; }
            return sum;
        }
        for (int k = 1; k <= n; k++) { sum += zk * s[k - 1]; zk *= z; }
        for (int k = n + 1; k <= 2 * n - 1; k++) { sum += zk * s[2 * n - k]; zk *= z; }
        return sum / (1 - Math.Pow(z, 2 * n));
    }

}
