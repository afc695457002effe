using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Geometry;

/// <summary>
/// Samples a volume at arbitrary voxel positions with a B-spline of order 0, 1 or 3, following scipy.ndimage's
/// geometric_transform conventions (coordinate mapping per boundary mode, then tap folding, then the tensor-product
/// sum). Holds the (prefiltered, possibly padded) coefficients; immutable and thread-safe once built.
/// An "exact" axis is one that is only ever sampled at integer positions (e.g. the axis a rotation leaves alone):
/// it is not prefiltered and takes one tap, which gives the same values with a quarter of the work.
/// </summary>
internal sealed unsafe class SplineSampler
{
    private readonly float[] _c;
    private readonly int _nx, _ny, _nz;    // data dims
    private readonly int _cx, _cy, _cz;    // coefficient dims (data + 2·pad)
    private readonly int _px, _py, _pz;    // pads (nearest mode, order > 1)
    private readonly bool _ex, _ey, _ez;   // exact axes
    private readonly int _order;
    private readonly BoundaryMode _mode;
    private readonly float _cval;
    private readonly long _cxy;

    private SplineSampler(float[] c, Shape3 data, Shape3 coef, int px, int py, int pz, bool ex, bool ey, bool ez, int order, BoundaryMode mode, float cval)
    {
        _c = c;
        (_nx, _ny, _nz) = (data.X, data.Y, data.Z);
        (_cx, _cy, _cz) = (coef.X, coef.Y, coef.Z);
        (_px, _py, _pz) = (px, py, pz);
        (_ex, _ey, _ez) = (ex, ey, ez);
        _order = order;
        _mode = mode;
        _cval = cval;
        _cxy = (long)coef.X * coef.Y;
    }

    /// <summary>Builds the sampler; prefilters (order 3) along the non-exact axes. Does not copy data when no prefilter is needed.</summary>
    public static SplineSampler Create(float[] data, Shape3 shape, int order, BoundaryMode mode, float cval, bool prefilter, bool exactX = false, bool exactY = false, bool exactZ = false)
    {
        if (order <= 1 || !prefilter)
            return new SplineSampler(data, shape, shape, 0, 0, 0, exactX, exactY, exactZ, order, mode, cval);
        int P = SplineFilter.NearestPad;
        int px = mode == BoundaryMode.Nearest && !exactX ? P : 0;
        int py = mode == BoundaryMode.Nearest && !exactY ? P : 0;
        int pz = mode == BoundaryMode.Nearest && !exactZ ? P : 0;
        var cs = new Shape3(shape.X + 2 * px, shape.Y + 2 * py, shape.Z + 2 * pz);
        float[] c;
        if (px == 0 && py == 0 && pz == 0) c = (float[])data.Clone();
        else
        {
            c = new float[cs.Count];
            int X = shape.X, Y = shape.Y, Z = shape.Z;
            Parallelism.For(0, cs.Z, zc =>
            {
                int z = Math.Clamp(zc - pz, 0, Z - 1);
                for (int yc = 0; yc < cs.Y; yc++)
                {
                    int y = Math.Clamp(yc - py, 0, Y - 1);
                    int src = X * (y + Y * z);
                    int dst = cs.X * (yc + cs.Y * zc);
                    float first = data[src], last = data[src + X - 1];
                    for (int i = 0; i < px; i++) c[dst + i] = first;
                    Array.Copy(data, src, c, dst + px, X);
                    for (int i = 0; i < px; i++) c[dst + px + X + i] = last;
                }
            });
        }
        if (!exactX) SplineFilter.FilterAxisInPlace(c, cs, 0, order, mode);
        if (!exactY) SplineFilter.FilterAxisInPlace(c, cs, 1, order, mode);
        if (!exactZ) SplineFilter.FilterAxisInPlace(c, cs, 2, order, mode);
        return new SplineSampler(c, shape, cs, px, py, pz, exactX, exactY, exactZ, order, mode, cval);
    }

    private struct Taps
    {
        public int Start;     // first tap (coefficient index, unfolded)
        public bool Interior; // all taps inside the coefficient array
        public float W0, W1, W2, W3;
    }

    /// <summary>
    /// Maps one coordinate (data voxel units) to taps. False: outside in 'constant' mode (→ cval).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Axis(double c, int n, int N, int pad, bool exact, ref Taps t)
    {
        switch (_mode)
        {
            case BoundaryMode.Constant:
                if (!(c >= 0 && c <= n - 1)) return false;
                break;
            case BoundaryMode.Nearest:
                c += pad;
                if (c < 0) c = 0; else if (c > N - 1) c = N - 1;
                break;
            case BoundaryMode.Mirror:
                c = MapMirror(c, n);
                break;
            default:
                c = MapReflect(c, n);
                break;
        }
        InteriorTaps(c, exact, ref t); // the weights; whether all taps fall inside the padded line is decided here
        int taps = exact || _order == 0 ? 1 : _order == 1 ? 2 : 4;
        t.Interior = t.Start >= 0 && t.Start + taps <= N;
        return true;
    }

    // scipy's map_coordinate for 'mirror' (period 2n−2) and 'reflect' (period 2n)
    private static double MapMirror(double c, int n)
    {
        if (c >= 0 && c <= n - 1) return c;
        if (n <= 1) return 0;
        long s2 = 2L * n - 2;
        if (c < 0)
        {
            c = s2 * (long)(-c / s2) + c;
            return c <= 1 - n ? c + s2 : -c;
        }
        c -= s2 * (long)(c / s2);
        return c >= n ? s2 - c : c;
    }

    private static double MapReflect(double c, int n)
    {
        if (c >= 0 && c <= n - 1) return c;
        if (n <= 1) return 0;
        long s2 = 2L * n;
        if (c < 0)
        {
            if (c < -s2) c = s2 * (long)(-c / s2) + c;
            return c < -n ? c + s2 : -c - 1;
        }
        c -= s2 * (long)(c / s2);
        return c >= n ? s2 - c - 1 : c;
    }

    /// <summary>Folds a tap index into [0, N): mirror for 'constant'/'mirror', reflect for 'reflect', clamp for 'nearest'.</summary>
    private int Fold(int i, int N)
    {
        if ((uint)i < (uint)N) return i;
        if (N <= 1) return 0;
        switch (_mode)
        {
            case BoundaryMode.Nearest:
                return i < 0 ? 0 : N - 1;
            case BoundaryMode.Reflect:
            {
                int s2 = 2 * N;
                if (i < 0)
                {
                    i = s2 * (-i / s2) + i;
                    return i < -N ? i + s2 : -i - 1;
                }
                i -= s2 * (i / s2);
                return i >= N ? s2 - i - 1 : i;
            }
            default:
            {
                int s2 = 2 * N - 2;
                if (i < 0)
                {
                    i = s2 * (-i / s2) + i;
                    return i <= 1 - N ? i + s2 : -i;
                }
                i -= s2 * (i / s2);
                return i >= N ? s2 - i : i;
            }
        }
    }

    /// <summary>
    /// Fills one output row: dst[i] = sample at (m · (x0 + i, y, z) + offset), with the 3×3 matrix m row-major.
    /// Coordinates are computed per voxel exactly as scipy does (Σ o·m + offset), not accumulated. The stretch of the
    /// row whose taps all fall inside the coefficient array (found analytically, shrunk by one voxel for safety) runs a
    /// tight loop without boundary handling; the ends go through the general path.
    /// </summary>
    public void SampleRow(ReadOnlySpan<double> m, ReadOnlySpan<double> offset, int y, int z, Span<float> dst)
    {
        double m0 = m[0], m3 = m[3], m6 = m[6];
        double ry0 = y * m[1], ry1 = y * m[4], ry2 = y * m[7];
        double rz0 = z * m[2], rz1 = z * m[5], rz2 = z * m[8];
        double o0 = offset[0], o1 = offset[1], o2 = offset[2];
        int n = dst.Length;
        // interior: coefficient coordinate c + pad within [lo, hi] on every axis
        var (lo, hi) = InteriorRange(n, m0, ry0 + rz0 + o0, _px, _cx, _ex);
        var (lo1, hi1) = InteriorRange(n, m3, ry1 + rz1 + o1, _py, _cy, _ey);
        var (lo2, hi2) = InteriorRange(n, m6, ry2 + rz2 + o2, _pz, _cz, _ez);
        lo = Math.Max(lo, Math.Max(lo1, lo2));
        hi = Math.Min(hi, Math.Min(hi1, hi2));
        if (_mode == BoundaryMode.Constant)
        {
            // constant mode also needs the data range [0, n−1] (pads are 0 in constant mode)
            var (c0, c1) = InteriorRange(n, m0, ry0 + rz0 + o0, 0, _nx, true);
            var (d0, d1) = InteriorRange(n, m3, ry1 + rz1 + o1, 0, _ny, true);
            var (e0, e1) = InteriorRange(n, m6, ry2 + rz2 + o2, 0, _nz, true);
            lo = Math.Max(lo, Math.Max(c0, Math.Max(d0, e0)));
            hi = Math.Min(hi, Math.Min(c1, Math.Min(d1, e1)));
        }
        if (hi < lo) { lo = n; hi = n - 1; }
        fixed (float* cbase = _c)
        {
            Taps tx = default, ty = default, tz = default;
            for (int i = 0; i < n; i++)
            {
                if (i == lo)
                {
                    FastInterior(cbase, m0, m3, m6, ry0, ry1, ry2, rz0, rz1, rz2, o0, o1, o2, lo, hi, dst);
                    i = hi;
                    continue;
                }
                // same association as scipy: ((x·m0 + y·m1) + z·m2) + offset
                double cx = i * m0 + ry0 + rz0 + o0;
                double cy = i * m3 + ry1 + rz1 + o1;
                double cz = i * m6 + ry2 + rz2 + o2;
                if (!Axis(cx, _nx, _cx, _px, _ex, ref tx) || !Axis(cy, _ny, _cy, _py, _ey, ref ty) || !Axis(cz, _nz, _cz, _pz, _ez, ref tz))
                {
                    dst[i] = _cval;
                    continue;
                }
                dst[i] = Evaluate(cbase, ref tx, ref ty, ref tz);
            }
        }
    }

    /// <summary>
    /// Row indices i (inclusive) for which a·i + b (+ pad) keeps every tap inside [0, N): order 0 or an exact axis
    /// [0, N−1], order 1 [0, N−1), order 3 [1, N−2); shrunk by one index each side against rounding.
    /// </summary>
    private (int Lo, int Hi) InteriorRange(int n, double a, double b, int pad, int N, bool single)
    {
        double cLo, cHi;
        if (single || _order == 0) { cLo = 0; cHi = N - 1; }
        else if (_order == 1) { cLo = 0; cHi = N - 1.000001; }
        else { cLo = 1; cHi = N - 2.000001; }
        cLo -= pad; cHi -= pad;
        if (cHi < cLo) return (1, 0);
        if (a == 0) return b >= cLo && b <= cHi ? (0, n - 1) : (1, 0);
        double i0 = (cLo - b) / a, i1 = (cHi - b) / a;
        if (i0 > i1) (i0, i1) = (i1, i0);
        double lo = Math.Ceiling(i0) + 1, hi = Math.Floor(i1) - 1;
        if (lo < 0) lo = 0;
        if (hi > n - 1) hi = n - 1;
        return hi < lo ? (1, 0) : ((int)lo, (int)hi);
    }

    private void FastInterior(float* cbase, double m0, double m3, double m6, double ry0, double ry1, double ry2,
        double rz0, double rz1, double rz2, double o0, double o1, double o2, int lo, int hi, Span<float> dst)
    {
        long sy = _cx, sz = _cxy;
        double px = _px, py = _py, pz = _pz;
        if (_order == 0 && !_ex && !_ey && !_ez)
        {
            // nearest neighbour: round half up, as scipy's floor(c + 0.5) (pads are 0 for order 0)
            for (int i = lo; i <= hi; i++)
            {
                double cx = i * m0 + ry0 + rz0 + o0, cy = i * m3 + ry1 + rz1 + o1, cz = i * m6 + ry2 + rz2 + o2;
                dst[i] = cbase[(long)Math.Floor(cz + 0.5) * sz + (long)Math.Floor(cy + 0.5) * sy + (long)Math.Floor(cx + 0.5)];
            }
            return;
        }
        if (_order == 0 || (_order == 1 && (_ex || _ey || _ez)) || (_order == 3 && (_ex || _ey || _ez)))
        {
            // exact axes or nearest-neighbour: per-voxel taps without boundary handling, shared evaluation
            Taps tx = default, ty = default, tz = default;
            for (int i = lo; i <= hi; i++)
            {
                double cx = i * m0 + ry0 + rz0 + o0 + px;
                double cy = i * m3 + ry1 + rz1 + o1 + py;
                double cz = i * m6 + ry2 + rz2 + o2 + pz;
                InteriorTaps(cx, _ex, ref tx);
                InteriorTaps(cy, _ey, ref ty);
                InteriorTaps(cz, _ez, ref tz);
                dst[i] = Evaluate(cbase, ref tx, ref ty, ref tz);
            }
            return;
        }
        if (_order == 1)
        {
            for (int i = lo; i <= hi; i++)
            {
                double cx = i * m0 + ry0 + rz0 + o0, cy = i * m3 + ry1 + rz1 + o1, cz = i * m6 + ry2 + rz2 + o2;
                double fx = Math.Floor(cx), fy = Math.Floor(cy), fz = Math.Floor(cz);
                float ux = (float)(cx - fx), uy = (float)(cy - fy), uz = (float)(cz - fz);
                float* p = cbase + (long)fz * sz + (long)fy * sy + (long)fx;
                float* q = p + sz;
                float a = (p[0] + (p[1] - p[0]) * ux) + ((p[sy] + (p[sy + 1] - p[sy]) * ux) - (p[0] + (p[1] - p[0]) * ux)) * uy;
                float b = (q[0] + (q[1] - q[0]) * ux) + ((q[sy] + (q[sy + 1] - q[sy]) * ux) - (q[0] + (q[1] - q[0]) * ux)) * uy;
                dst[i] = a + (b - a) * uz;
            }
            return;
        }
        // order 3, all axes interpolated
        for (int i = lo; i <= hi; i++)
        {
            double cx = i * m0 + ry0 + rz0 + o0 + px, cy = i * m3 + ry1 + rz1 + o1 + py, cz = i * m6 + ry2 + rz2 + o2 + pz;
            double fx = Math.Floor(cx), fy = Math.Floor(cy), fz = Math.Floor(cz);
            var wx = Cubic(cx - fx);
            var wy = Cubic(cy - fy);
            var wz = Cubic(cz - fz);
            float* p = cbase + ((long)fz - 1) * sz + ((long)fy - 1) * sy + (long)fx - 1;
            var acc = Vector128<float>.Zero;
            for (int k = 0; k < 4; k++)
            {
                float wzk = wz.GetElement(k);
                float* q = p + k * sz;
                acc += Vector128.Load(q) * (wzk * wy.GetElement(0));
                acc += Vector128.Load(q + sy) * (wzk * wy.GetElement(1));
                acc += Vector128.Load(q + 2 * sy) * (wzk * wy.GetElement(2));
                acc += Vector128.Load(q + 3 * sy) * (wzk * wy.GetElement(3));
            }
            dst[i] = Vector128.Dot(acc, wx);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Cubic(double u)
    {
        double v = 1 - u, u2 = u * u;
        return Vector128.Create((float)(v * v * v / 6.0), (float)((3.0 * u2 * u - 6.0 * u2 + 4.0) / 6.0),
            (float)((-3.0 * u2 * u + 3.0 * u2 + 3.0 * u + 1.0) / 6.0), (float)(u2 * u / 6.0));
    }

    /// <summary>Taps for a coefficient coordinate known to be interior (no mapping, no folding).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void InteriorTaps(double c, bool exact, ref Taps t)
    {
        t.Interior = true;
        if (exact || _order == 0)
        {
            t.Start = exact ? (int)Math.Round(c) : (int)Math.Floor(c + 0.5);
            t.W0 = 1;
        }
        else if (_order == 1)
        {
            double f = Math.Floor(c);
            float u = (float)(c - f);
            t.Start = (int)f; t.W0 = 1 - u; t.W1 = u;
        }
        else
        {
            double f = Math.Floor(c);
            double u = c - f, v = 1 - u, u2 = u * u;
            t.Start = (int)f - 1;
            t.W0 = (float)(v * v * v / 6.0);
            t.W1 = (float)((3.0 * u2 * u - 6.0 * u2 + 4.0) / 6.0);
            t.W2 = (float)((-3.0 * u2 * u + 3.0 * u2 + 3.0 * u + 1.0) / 6.0);
            t.W3 = (float)(u2 * u / 6.0);
        }
    }

    /// <summary>Samples one position (voxel units). For tests and sparse use; rows are faster.</summary>
    public float Sample(double x, double y, double z)
    {
        Taps tx = default, ty = default, tz = default;
        if (!Axis(x, _nx, _cx, _px, _ex, ref tx) || !Axis(y, _ny, _cy, _py, _ey, ref ty) || !Axis(z, _nz, _cz, _pz, _ez, ref tz))
            return _cval;
        fixed (float* cbase = _c) return Evaluate(cbase, ref tx, ref ty, ref tz);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Evaluate(float* cbase, ref Taps tx, ref Taps ty, ref Taps tz)
    {
        if (!(tx.Interior && ty.Interior && tz.Interior)) return General(cbase, ref tx, ref ty, ref tz);
        float* p = cbase + tz.Start * _cxy + (long)ty.Start * _cx + tx.Start;
        if (_order == 0) return *p;
        long sy = _cx, sz = _cxy;
        if (_order == 3 && !_ex)
        {
            // x taps as one 4-wide vector; y and z take 4 taps each, or 1 on an exact axis
            var acc = Vector128<float>.Zero;
            if (!_ey && !_ez)
            {
                float wy0 = ty.W0, wy1 = ty.W1, wy2 = ty.W2, wy3 = ty.W3;
                for (int k = 0; k < 4; k++)
                {
                    float wz = k switch { 0 => tz.W0, 1 => tz.W1, 2 => tz.W2, _ => tz.W3 };
                    float* q = p + k * sz;
                    acc += Vector128.Load(q) * (wz * wy0);
                    acc += Vector128.Load(q + sy) * (wz * wy1);
                    acc += Vector128.Load(q + 2 * sy) * (wz * wy2);
                    acc += Vector128.Load(q + 3 * sy) * (wz * wy3);
                }
            }
            else if (_ez && !_ey)
            {
                acc = Vector128.Load(p) * ty.W0 + Vector128.Load(p + sy) * ty.W1 + Vector128.Load(p + 2 * sy) * ty.W2 + Vector128.Load(p + 3 * sy) * ty.W3;
            }
            else if (_ey && !_ez)
            {
                acc = Vector128.Load(p) * tz.W0 + Vector128.Load(p + sz) * tz.W1 + Vector128.Load(p + 2 * sz) * tz.W2 + Vector128.Load(p + 3 * sz) * tz.W3;
            }
            else acc = Vector128.Load(p);
            return Vector128.Dot(acc, Vector128.Create(tx.W0, tx.W1, tx.W2, tx.W3));
        }
        if (_order == 1 && !_ex && !_ey && !_ez)
        {
            float* q = p + _cxy;
            float a = (p[0] * tx.W0 + p[1] * tx.W1) * ty.W0 + (p[_cx] * tx.W0 + p[_cx + 1] * tx.W1) * ty.W1;
            float b = (q[0] * tx.W0 + q[1] * tx.W1) * ty.W0 + (q[_cx] * tx.W0 + q[_cx + 1] * tx.W1) * ty.W1;
            return a * tz.W0 + b * tz.W1;
        }
        if (_order == 1)
        {
            // one or more exact axes: bilinear (or linear) on the others
            long dx = _ex ? 0 : 1, dy = _ey ? 0 : sy, dz = _ez ? 0 : sz;
            float ax0 = _ex ? 1 : tx.W0, ax1 = _ex ? 0 : tx.W1;
            float ay0 = _ey ? 1 : ty.W0, ay1 = _ey ? 0 : ty.W1;
            float az0 = _ez ? 1 : tz.W0, az1 = _ez ? 0 : tz.W1;
            float* q = p + dz;
            float a = (p[0] * ax0 + p[dx] * ax1) * ay0 + (p[dy] * ax0 + p[dy + dx] * ax1) * ay1;
            float b = (q[0] * ax0 + q[dx] * ax1) * ay0 + (q[dy] * ax0 + q[dy + dx] * ax1) * ay1;
            return a * az0 + b * az1;
        }
        return General(cbase, ref tx, ref ty, ref tz);
    }

    private float General(float* cbase, ref Taps tx, ref Taps ty, ref Taps tz)
    {
        int nx = _ex || _order == 0 ? 1 : _order + 1;
        int ny = _ey || _order == 0 ? 1 : _order + 1;
        int nz = _ez || _order == 0 ? 1 : _order + 1;
        Span<int> ix = stackalloc int[4];
        Span<int> iy = stackalloc int[4];
        Span<int> iz = stackalloc int[4];
        Span<float> wx = stackalloc float[4] { tx.W0, tx.W1, tx.W2, tx.W3 };
        Span<float> wy = stackalloc float[4] { ty.W0, ty.W1, ty.W2, ty.W3 };
        Span<float> wz = stackalloc float[4] { tz.W0, tz.W1, tz.W2, tz.W3 };
        for (int k = 0; k < nx; k++) ix[k] = Fold(tx.Start + k, _cx);
        for (int k = 0; k < ny; k++) iy[k] = Fold(ty.Start + k, _cy);
        for (int k = 0; k < nz; k++) iz[k] = Fold(tz.Start + k, _cz);
        float acc = 0;
        for (int c = 0; c < nz; c++)
        {
            float* pz = cbase + iz[c] * _cxy;
            float accy = 0;
            for (int b = 0; b < ny; b++)
            {
                float* py = pz + (long)iy[b] * _cx;
                float accx = 0;
                for (int a = 0; a < nx; a++) accx += wx[a] * py[ix[a]];
                accy += wy[b] * accx;
            }
            acc += wz[c] * accy;
        }
        return acc;
    }
}
