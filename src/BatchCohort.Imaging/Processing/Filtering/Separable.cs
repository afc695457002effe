using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing;

namespace BatchCohort.Imaging.Processing.Filtering;

/// <summary>
/// A 1-D correlation kernel with scipy's origin convention: out[i] = Σ_k W[k]·in[i + k − Shift] where
/// Shift = len/2 + origin (scipy.ndimage.correlate1d).
/// </summary>
internal sealed class Kernel1D
{
    public Kernel1D(float[] weights, int origin = 0, string paramName = "origin")
    {
        if (weights.Length == 0) throw new ArgumentException("kernel is empty", nameof(weights));
        int shift = weights.Length / 2 + origin;
        if (shift < 0 || shift >= weights.Length)
            throw new ArgumentException($"origin {origin} is invalid for a kernel of length {weights.Length}: need {-(weights.Length / 2)} ≤ origin ≤ {(weights.Length - 1) / 2}", paramName);
        W = weights;
        Shift = shift;
    }

    public float[] W { get; }
    public int Shift { get; }
    public int Taps => W.Length;
}

/// <summary>
/// Separable correlation engine: 1-D correlations applied one axis after another in a given order (scipy applies
/// gaussian_filter along x, y, z and sobel along its axis first; the order matters only in Constant mode with a
/// non-zero cval, and we follow scipy's). Memory: no volume-sized temporary — x/y passes run slice by slice (one or
/// two slices of scratch per worker), a z pass reads slices directly or, in place, one x–z plane at a time.
/// </summary>
internal static unsafe class Separable
{
    /// <summary>x, then y, then z (null kernel: axis skipped).</summary>
    public static void Correlate(float[] src, float[] dst, Shape3 shape, Kernel1D? kx, Kernel1D? ky, Kernel1D? kz, BoundaryMode mode, float cval) =>
        Correlate(src, dst, shape, new[] { (0, kx), (1, ky), (2, kz) }, mode, cval);

    /// <summary>The passes in the given order (each axis at most once; null kernels skipped). dst may not be src.</summary>
    public static void Correlate(float[] src, float[] dst, Shape3 shape, (int Axis, Kernel1D? K)[] passes, BoundaryMode mode, float cval)
    {
        var list = passes.Where(p => p.K is not null).Select(p => (p.Axis, K: p.K!)).ToArray();
        if (list.Length == 0) { if (!ReferenceEquals(src, dst)) Array.Copy(src, dst, src.Length); return; }
        if (ReferenceEquals(src, dst)) throw new ArgumentException("output must not be the input array", nameof(dst));
        float[] constRow = new float[Math.Max(Math.Max(shape.X, shape.Y), 1)];
        if (mode == BoundaryMode.Constant && cval != 0) constRow.AsSpan().Fill(cval);
        float[] cur = src;
        int i = 0;
        while (i < list.Length)
        {
            if (list[i].Axis == 2)
            {
                ZPass(cur, dst, shape, list[i].K, mode, constRow);
                i++;
            }
            else
            {
                int j = i;
                while (j < list.Length && list[j].Axis != 2) j++;
                SlicePasses(cur, dst, shape, list[i..j], mode, cval, constRow);
                i = j;
            }
            cur = dst;
        }
    }

    private static void SlicePasses(float[] src, float[] dst, Shape3 shape, (int Axis, Kernel1D K)[] passes, BoundaryMode mode, float cval, float[] constRow)
    {
        int X = shape.X, Y = shape.Y, Z = shape.Z, slice = X * Y;
        bool inPlace = ReferenceEquals(src, dst);
        int m = passes.Length;
        int padLen = 1, rowsLen = 1;
        foreach (var p in passes)
        {
            if (p.Axis == 0) padLen = Math.Max(padLen, X + p.K.Taps - 1);
            else rowsLen = Math.Max(rowsLen, p.K.Taps);
        }
        int nScratch = (inPlace ? 1 : 0) + (m - 1);
        Parallelism.ForPerWorker(Z,
            () => (Pad: ArrayPool<float>.Shared.Rent(padLen), S: ArrayPool<float>.Shared.Rent(nScratch > 0 ? slice : 1),
                   T: ArrayPool<float>.Shared.Rent(nScratch > 1 ? slice : 1), Rows: new IntPtr[rowsLen]),
            (z, buf) =>
            {
                fixed (float* ps = src, pd = dst, pad = buf.Pad, sb = buf.S, tb = buf.T, cr = constRow)
                fixed (IntPtr* rows = buf.Rows)
                {
                    float* outSlice = pd + (long)z * slice;
                    float* cin = ps + (long)z * slice;
                    if (inPlace) { Buffer.MemoryCopy(cin, sb, slice * 4L, slice * 4L); cin = sb; }
                    for (int q = 0; q < m; q++)
                    {
                        float* cout = q == m - 1 ? outSlice : (cin == sb ? tb : sb);
                        var (axis, k) = passes[q];
                        if (axis == 0)
                        {
                            for (int y = 0; y < Y; y++) CorrelateRow(cin + (long)y * X, cout + (long)y * X, X, k, mode, cval, pad);
                        }
                        else
                        {
                            fixed (float* w = k.W)
                                for (int y = 0; y < Y; y++)
                                {
                                    for (int t = 0; t < k.Taps; t++)
                                    {
                                        int r = Boundary.Map(y + t - k.Shift, Y, mode);
                                        rows[t] = (IntPtr)(r < 0 ? cr : cin + (long)r * X);
                                    }
                                    CombineRows(cout + (long)y * X, (float**)rows, w, k.Taps, X);
                                }
                        }
                        cin = cout;
                    }
                }
            },
            buf => { ArrayPool<float>.Shared.Return(buf.Pad); ArrayPool<float>.Shared.Return(buf.S); ArrayPool<float>.Shared.Return(buf.T); });
    }

    private static void ZPass(float[] src, float[] dst, Shape3 shape, Kernel1D kz, BoundaryMode mode, float[] constRow)
    {
        int X = shape.X, Y = shape.Y, Z = shape.Z, slice = X * Y;
        if (!ReferenceEquals(src, dst))
        {
            // read input slices directly: out[z] = Σ w_k · in[map(z + k − shift)], row by row
            Parallelism.ForPerWorker(Z, () => new IntPtr[kz.Taps], (z, rowsArr) =>
            {
                fixed (float* ps = src, pd = dst, cr = constRow, w = kz.W)
                fixed (IntPtr* rows = rowsArr)
                {
                    var srcSlice = stackalloc long[kz.Taps];
                    for (int t = 0; t < kz.Taps; t++) srcSlice[t] = Boundary.Map(z + t - kz.Shift, Z, mode);
                    for (int y = 0; y < Y; y++)
                    {
                        for (int t = 0; t < kz.Taps; t++)
                            rows[t] = (IntPtr)(srcSlice[t] < 0 ? cr : ps + srcSlice[t] * slice + (long)y * X);
                        CombineRows(pd + (long)z * slice + (long)y * X, (float**)rows, w, kz.Taps, X);
                    }
                }
            });
            return;
        }
        Parallelism.ForPerWorker(Y,
            () => (B: ArrayPool<float>.Shared.Rent(X * Z), Rows: new IntPtr[kz.Taps]),
            (y, buf) =>
            {
                fixed (float* pd = dst, b = buf.B, cr = constRow, w = kz.W)
                fixed (IntPtr* rows = buf.Rows)
                {
                    for (int z = 0; z < Z; z++)
                        Buffer.MemoryCopy(pd + (long)z * slice + (long)y * X, b + (long)z * X, X * 4L, X * 4L);
                    for (int z = 0; z < Z; z++)
                    {
                        for (int t = 0; t < kz.Taps; t++)
                        {
                            int r = Boundary.Map(z + t - kz.Shift, Z, mode);
                            rows[t] = (IntPtr)(r < 0 ? cr : b + (long)r * X);
                        }
                        CombineRows(pd + (long)z * slice + (long)y * X, (float**)rows, w, kz.Taps, X);
                    }
                }
            },
            buf => ArrayPool<float>.Shared.Return(buf.B));
    }

    /// <summary>1-D correlation of one contiguous row (length n) into dst using a padded copy in <paramref name="pad"/>.</summary>
    public static void CorrelateRow(float* row, float* dst, int n, Kernel1D k, BoundaryMode mode, float cval, float* pad, bool accumulate = false)
    {
        PadRow(row, n, k.Shift, k.Taps, mode, cval, pad);
        fixed (float* w = k.W)
            CorrelatePadded(pad, dst, w, k.Taps, n, accumulate);
    }

    /// <summary>pad[j] = row[j − before] for j &lt; n + taps − 1, extended by the boundary mode.</summary>
    public static void PadRow(float* row, int n, int before, int taps, BoundaryMode mode, float cval, float* pad)
    {
        int len = n + taps - 1;
        // pad[j] = row[j - before] extended by the boundary mode
        for (int j = 0; j < Math.Min(before, len); j++) pad[j] = Extended(row, j - before, n, mode, cval);
        Buffer.MemoryCopy(row, pad + before, n * 4L, n * 4L);
        for (int j = before + n; j < len; j++) pad[j] = Extended(row, j - before, n, mode, cval);
    }

    /// <summary>
    /// dst = Σ over axes a of the 1-D correlation of src along a with kernels[a] (null: axis left out) — one pass,
    /// no scratch volume (scipy's generic_laplace with 1-D derivative kernels).
    /// </summary>
    public static void AxisSum(float[] src, float[] dst, Shape3 shape, Kernel1D?[] kernels, BoundaryMode mode, float cval)
    {
        if (ReferenceEquals(src, dst)) throw new ArgumentException("output must not be the input array", nameof(dst));
        int X = shape.X, Y = shape.Y, Z = shape.Z, slice = X * Y;
        float[] constRow = new float[Math.Max(X, 1)];
        if (mode == BoundaryMode.Constant && cval != 0) constRow.AsSpan().Fill(cval);
        var kx = kernels[0]; var ky = kernels[1]; var kz = kernels[2];
        int padLen = kx is null ? 1 : X + kx.Taps - 1;
        int maxTaps = Math.Max(ky?.Taps ?? 1, kz?.Taps ?? 1);
        Parallelism.ForPerWorker(Z, () => (Pad: ArrayPool<float>.Shared.Rent(padLen), Rows: new IntPtr[maxTaps]), (z, buf) =>
        {
            fixed (float* ps = src, pd = dst, pad = buf.Pad, cr = constRow)
            fixed (IntPtr* rows = buf.Rows)
            {
                float* inSlice = ps + (long)z * slice;
                for (int y = 0; y < Y; y++)
                {
                    float* o = pd + (long)z * slice + (long)y * X;
                    bool acc = false;
                    if (kx is not null) { CorrelateRow(inSlice + (long)y * X, o, X, kx, mode, cval, pad); acc = true; }
                    if (ky is not null)
                    {
                        for (int t = 0; t < ky.Taps; t++)
                        {
                            int r = Boundary.Map(y + t - ky.Shift, Y, mode);
                            rows[t] = (IntPtr)(r < 0 ? cr : inSlice + (long)r * X);
                        }
                        fixed (float* w = ky.W) CombineRows(o, (float**)rows, w, ky.Taps, X, acc);
                        acc = true;
                    }
                    if (kz is not null)
                    {
                        for (int t = 0; t < kz.Taps; t++)
                        {
                            int r = Boundary.Map(z + t - kz.Shift, Z, mode);
                            rows[t] = (IntPtr)(r < 0 ? cr : ps + (long)r * slice + (long)y * X);
                        }
                        fixed (float* w = kz.W) CombineRows(o, (float**)rows, w, kz.Taps, X, acc);
                        acc = true;
                    }
                    if (!acc) new Span<float>(o, X).Clear();
                }
            }
        }, buf => ArrayPool<float>.Shared.Return(buf.Pad));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Extended(float* row, int i, int n, BoundaryMode mode, float cval)
    {
        int m = Boundary.Map(i, n, mode);
        return m < 0 ? cval : row[m];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Mad(Vector<float> a, Vector<float> b, Vector<float> c) =>
        Fma.IsSupported ? Vector.FusedMultiplyAdd(a, b, c) : a * b + c;

    /// <summary>dst[i] = Σ_k w[k]·pad[i + k], i &lt; n (or dst[i] += … with <paramref name="accumulate"/>).</summary>
    public static void CorrelatePadded(float* pad, float* dst, float* w, int taps, int n, bool accumulate = false)
    {
        // a correlation along one padded row is CombineRows over the row shifted by each tap
        float** rows = stackalloc float*[taps];
        for (int k = 0; k < taps; k++) rows[k] = pad + k;
        CombineRows(dst, rows, w, taps, n, accumulate);
    }

    /// <summary>dst[i] = Σ_k w[k]·rows[k][i], i &lt; n (a 1-D correlation across rows, vectorised along the rows);
    /// dst[i] += … with <paramref name="accumulate"/>.</summary>
    public static void CombineRows(float* dst, float** rows, float* w, int taps, int n, bool accumulate = false)
    {
        int i = 0;
        int vc = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - 2 * vc; i += 2 * vc)
            {
                var a0 = accumulate ? Vector.Load(dst + i) : Vector<float>.Zero;
                var a1 = accumulate ? Vector.Load(dst + i + vc) : Vector<float>.Zero;
                for (int k = 0; k < taps; k++)
                {
                    var wk = new Vector<float>(w[k]);
                    float* r = rows[k] + i;
                    a0 = Mad(Vector.Load(r), wk, a0);
                    a1 = Mad(Vector.Load(r + vc), wk, a1);
                }
                Vector.Store(a0, dst + i);
                Vector.Store(a1, dst + i + vc);
            }
            for (; i <= n - vc; i += vc)
            {
                var a0 = accumulate ? Vector.Load(dst + i) : Vector<float>.Zero;
                for (int k = 0; k < taps; k++) a0 = Mad(Vector.Load(rows[k] + i), new Vector<float>(w[k]), a0);
                Vector.Store(a0, dst + i);
            }
        }
        for (; i < n; i++)
        {
            float s = accumulate ? dst[i] : 0;
            for (int k = 0; k < taps; k++) s += w[k] * rows[k][i];
            dst[i] = s;
        }
    }
}
