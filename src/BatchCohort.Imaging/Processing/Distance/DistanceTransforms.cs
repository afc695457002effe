using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;
using System.Numerics.Tensors;
using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Distance;

/// <summary>
/// scipy.ndimage.distance_transform_edt: for every inside voxel of a mask, the exact Euclidean distance to the nearest
/// outside voxel, in millimetres on anisotropic grids (scipy's <c>sampling</c>); outside voxels are 0.
/// <para>
/// Algorithm: the separable exact transform of Felzenszwalb and Huttenlocher (2012, "Distance transforms of sampled
/// functions"): a 1-D nearest-background pass along x, then along y and z the lower envelope of parabolas
/// f(q) + s²(p − q)², in double precision per line. O(N) work, lines processed in parallel; no approximation.
/// </para>
/// Deliberate difference from scipy: <c>sampling</c> defaults to the mask's voxel spacing (so the answer is in mm),
/// where scipy's default is 1 per voxel; pass <c>Spacing3.Isotropic(1)</c> for voxel units.
/// </summary>
public static class DistanceTransforms
{
    /// <summary>
    /// Distance in mm from each inside voxel to the nearest outside voxel (0 outside), as a float volume on the mask's grid.
    /// Throws when the mask has no outside voxel (the distance is undefined; scipy returns meaningless numbers).
    /// </summary>
    public static Volume DistanceTransformEdt(Mask input, Spacing3? sampling = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var output = GC.AllocateUninitializedArray<float>((int)input.Shape.Count); // every voxel written by the x pass
        DistanceTransformEdtInto(input, output, sampling);
        return new Volume(input.Shape, output, input.Affine, input.Spacing);
    }

    /// <summary>
    /// As <see cref="DistanceTransformEdt(Mask, Spacing3?)"/>, also returning for every voxel the flat index
    /// x + X·(y + Y·z) of a nearest outside voxel (scipy's return_indices, as one flat index instead of three arrays).
    /// Where several outside voxels are equally near, which one is returned may differ from scipy.
    /// </summary>
    public static Volume DistanceTransformEdt(Mask input, out int[] nearestIndex, Spacing3? sampling = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var output = GC.AllocateUninitializedArray<float>((int)input.Shape.Count);
        nearestIndex = GC.AllocateUninitializedArray<int>((int)input.Shape.Count);
        Run(input, output, nearestIndex, sampling);
        return new Volume(input.Shape, output, input.Affine, input.Spacing);
    }

    /// <summary>The allocation-free form: writes distances (mm) into <paramref name="output"/> (length = voxel count).</summary>
    public static void DistanceTransformEdtInto(Mask input, float[] output, Spacing3? sampling = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Run(input, output, null, sampling);
    }

    private static void Run(Mask input, float[] output, int[]? feat, Spacing3? sampling)
    {
        var s = sampling ?? input.Spacing;
        s.Validate(nameof(sampling));
        if (output.LongLength != input.Shape.Count)
            throw new ArgumentException($"output has {output.LongLength} elements but the mask has {input.Shape.Count} voxels", nameof(output));
        if (input.Data.AsSpan().IndexOf((byte)0) < 0)
            throw new ArgumentException("mask has no outside voxel: the distance to the nearest outside voxel is undefined", nameof(input));
        var shape = input.Shape;
        PassX(input.Data, shape, s.X, output, feat);
        if (shape.Y > 1) PassY(input.Data, shape, s.Y * s.Y, output, feat);
        if (shape.Z > 1) PassZ(input.Data, shape, s.Z * s.Z, output, feat);
        TensorPrimitives.Sqrt(output, output);
    }

    /// <summary>Squared distance along x to the nearest outside voxel in the same row (∞ when the row has none).</summary>
    private static void PassX(byte[] m, Shape3 shape, double sx, float[] d, int[]? feat)
    {
        int X = shape.X;
        RowHitEngine.ParallelRows(shape.Y * shape.Z, shape, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int b = r * X;
                var row = m.AsSpan(b, X);
                var outRow = d.AsSpan(b, X);
                int x = 0;
                while (x < X)
                {
                    // outside stretch [x, s): distance 0, nearest = itself
                    int s = row[x..].IndexOfAnyExcept((byte)0);
                    s = s < 0 ? X : x + s;
                    outRow[x..s].Clear();
                    if (feat is not null) for (int k = x; k < s; k++) feat[b + k] = b + k;
                    if (s == X) break;
                    // inside run [s, e): nearest outside voxel is s − 1 or e, whichever exists and is nearer
                    int e = row[s..].IndexOf((byte)0);
                    e = e < 0 ? X : s + e;
                    int left = s - 1, right = e < X ? e : -1;
                    for (int k = s; k < e; k++)
                    {
                        int best = left < 0 ? right : right < 0 ? left : (k - left <= right - k ? left : right);
                        if (best < 0)
                        {
                            outRow[k] = float.PositiveInfinity;
                            if (feat is not null) feat[b + k] = -1;
                        }
                        else
                        {
                            double dx = (k - best) * sx;
                            outRow[k] = (float)(dx * dx);
                            if (feat is not null) feat[b + k] = b + best;
                        }
                    }
                    x = e;
                }
            }
        });
    }

    /// <summary>Lower envelope along y for every (x, z) column: plane z, column stride X.</summary>
    private static void PassY(byte[] m, Shape3 shape, double w, float[] d, int[]? feat)
    {
        int X = shape.X, Y = shape.Y;
        // a z-plane is contiguous and small enough for the cache: walk its columns in place, skipping columns
        // without an inside voxel (all zero, nothing to do)
        ForPlanes(shape.Z, () => new Scratch(Y, X, w), (z, sc) =>
        {
            int b = z * X * Y;
            if (!ColumnsWithInside(m, b, X, X, Y, sc.Flags)) return;
            PlanePass(d, feat, b, X, X, Y, w, sc);
        });
    }

    /// <summary>Lower envelope along z for every (x, y) column: plane y, column stride X·Y.</summary>
    private static void PassZ(byte[] m, Shape3 shape, double w, float[] d, int[]? feat)
    {
        int X = shape.X, Y = shape.Y, Z = shape.Z;
        ForPlanes(Y, () => new Scratch(Z, X, w), (y, sc) =>
        {
            if (!ColumnsWithInside(m, y * X, X * Y, X, Z, sc.Flags)) return;
            PlanePass(d, feat, y * X, X * Y, X, Z, w, sc);
        });
    }

    /// <summary>flags[x] = OR over j &lt; n of mask row (bas + stride·j); false when no column has an inside voxel.</summary>
    private static bool ColumnsWithInside(byte[] m, int bas, int stride, int X, int n, byte[] flags)
    {
        var f = flags.AsSpan(0, X);
        f.Clear();
        for (int j = 0; j < n; j++)
        {
            var row = m.AsSpan(bas + stride * j, X);
            if (row.IndexOfAnyExcept((byte)0) < 0) continue;
            int x = 0;
            if (Vector.IsHardwareAccelerated)
                for (; x <= X - Vector<byte>.Count; x += Vector<byte>.Count)
                    (new Vector<byte>(f[x..]) | new Vector<byte>(row[x..])).CopyTo(f[x..]);
            for (; x < X; x++) f[x] |= row[x];
        }
        return f.IndexOfAnyExcept((byte)0) >= 0;
    }

    /// <summary>Planes split into a few contiguous ranges, one scratch per range (bounded memory, whatever the scheduler does).</summary>
    private static void ForPlanes(int planes, Func<Scratch> newScratch, Action<int, Scratch> body)
    {
        // several ranges per core so that a descheduled thread's share is picked up by the others
        int chunks = Math.Min(planes, Math.Max(1, Parallelism.Degree * 6));
        // scratch is pooled: only as many as run at once are made, however many ranges there are
        var pool = new System.Collections.Concurrent.ConcurrentBag<Scratch>();
        var options = new ParallelOptions { MaxDegreeOfParallelism = Parallelism.Degree };
        Parallel.For(0, chunks, options, c =>
        {
            if (!pool.TryTake(out var sc)) sc = newScratch();
            int p0 = (int)((long)planes * c / chunks), p1 = (int)((long)planes * (c + 1) / chunks);
            for (int p = p0; p < p1; p++) body(p, sc);
            pool.Add(sc);
        });
    }

    /// <summary>
    /// The plane of elements (x, j) at base + x + stride·j, x &lt; X, j &lt; n: copied transposed into a contiguous
    /// [x][j] buffer (reading whole x-rows), transformed column by column, copied back. Strided column walks across
    /// a large volume thrash the cache and TLB; this way every access to the volume is a contiguous row.
    /// </summary>
    private static void PlanePass(float[] d, int[]? feat, int bas, int stride, int X, int n, double w, Scratch sc)
    {
        // only the flagged columns (those with an inside voxel), packed: column k of the buffer is x = cols[k]
        var cols = sc.Cols;
        int nc = 0;
        for (int x = 0; x < X; x++) if (sc.Flags[x] != 0) cols[nc++] = x;
        var buf = sc.Plane;
        var fbuf = feat is null ? null : sc.PlaneFeat;
        // transposes in blocks of B rows: the B source rows stay in L1 while each column's B values are written
        // contiguously (a plain row-by-row transpose writes every value to a different cache line)
        const int B = 16;
        for (int j0 = 0; j0 < n; j0 += B)
        {
            int j1 = Math.Min(n, j0 + B);
            for (int k = 0; k < nc; k++)
            {
                int src = bas + cols[k] + stride * j0, dst = k * n + j0;
                for (int j = j0; j < j1; j++, src += stride, dst++) buf[dst] = d[src];
            }
            if (fbuf is not null)
                for (int k = 0; k < nc; k++)
                {
                    int src = bas + cols[k] + stride * j0, dst = k * n + j0;
                    for (int j = j0; j < j1; j++, src += stride, dst++) fbuf[dst] = feat![src];
                }
        }
        for (int k = 0; k < nc; k++) Column(buf, fbuf, k * n, n, w, sc);
        for (int j0 = 0; j0 < n; j0 += B)
        {
            int j1 = Math.Min(n, j0 + B);
            for (int k = 0; k < nc; k++)
            {
                int dst = bas + cols[k] + stride * j0, src = k * n + j0;
                for (int j = j0; j < j1; j++, dst += stride, src++) d[dst] = (float)buf[src];
            }
            if (fbuf is not null)
                for (int k = 0; k < nc; k++)
                {
                    int dst = bas + cols[k] + stride * j0, src = k * n + j0;
                    for (int j = j0; j < j1; j++, dst += stride, src++) feat![dst] = fbuf[src];
                }
        }
    }

    private sealed class Scratch(int n, int planeWidth, double w)
    {
        public readonly byte[] Flags = new byte[planeWidth];
        public readonly int[] Cols = new int[planeWidth];

        /// <summary>The plane, transposed, in double: columns are contiguous and the envelope reads them in place.</summary>
        public readonly double[] Plane = new double[(long)n * planeWidth];
        public int[] PlaneFeat => _planeFeat ??= new int[Plane.Length];
        private int[]? _planeFeat;

        // the envelope: parabola positions, their f, shifted values f + w·q², nearest-feature copies, boundaries
        public readonly int[] V = new int[n];
        public readonly double[] F = new double[n];
        public readonly double[] G = new double[n];
        public readonly int[] VFeat = new int[n];
        public readonly double[] Zb = new double[n + 1];

        /// <summary>RecW[d] = 1 / (2·w·d): the intersection of parabolas d apart costs a multiplication, not a division.</summary>
        public readonly double[] RecW = MakeRec(n, w);

        private static double[] MakeRec(int n, double w)
        {
            var r = new double[n + 1];
            for (int d = 1; d <= n; d++) r[d] = 1.0 / (2 * w * d);
            return r;
        }
    }

    /// <summary>
    /// In place on the contiguous column c[start .. start+n): c(p) = min_q f(q) + w·(p − q)² (w = spacing²),
    /// ignoring q with f(q) = ∞ (Felzenszwalb–Huttenlocher lower envelope).
    /// Only stretches of non-zero f are computed: a zero (an outside voxel) at either end of a stretch is nearer to every
    /// point of the stretch than anything beyond it, so each stretch needs only its own parabolas plus the two zeros
    /// that bound it, and outside voxels (f = 0) are skipped altogether — the work follows the inside volume.
    /// </summary>
    private static void Column(double[] c, int[]? feat, int start, int n, double w, Scratch sc)
    {
        int p0 = 0;
        while (p0 < n)
        {
            while (p0 < n && c[start + p0] == 0) p0++;
            if (p0 == n) break;
            int p1 = p0;
            while (p1 + 1 < n && c[start + p1 + 1] != 0) p1++;
            int lo = p0 > 0 ? p0 - 1 : p0, hi = p1 < n - 1 ? p1 + 1 : p1;
            Envelope(c, feat, start, w, sc, lo, hi, p0, p1);
            p0 = p1 + 1;
        }
    }

    /// <summary>Lower envelope of the parabolas at q in [lo, hi] (finite f only), written at p in [p0, p1].</summary>
    /// <remarks>Indices stay within [start, start + n) and [0, n] by construction; refs skip the bounds checks in this, the hottest loop.</remarks>
    private static void Envelope(double[] c, int[]? feat, int start, double w, Scratch sc, int lo, int hi, int p0, int p1)
    {
        ref double col = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(c), start);
        ref int v = ref MemoryMarshal.GetArrayDataReference(sc.V);
        ref double fv = ref MemoryMarshal.GetArrayDataReference(sc.F);
        ref double g = ref MemoryMarshal.GetArrayDataReference(sc.G);
        ref double zb = ref MemoryMarshal.GetArrayDataReference(sc.Zb);
        ref double rec = ref MemoryMarshal.GetArrayDataReference(sc.RecW);
        int k = -1;
        for (int q = lo; q <= hi; q++)
        {
            double fq = Unsafe.Add(ref col, q);
            if (double.IsPositiveInfinity(fq)) continue;
            double gq = fq + w * q * q;
            double sIntersect = double.NegativeInfinity;
            while (k >= 0)
            {
                // zb[0] = −∞, so the loop never pops the first parabola
                sIntersect = (gq - Unsafe.Add(ref g, k)) * Unsafe.Add(ref rec, q - Unsafe.Add(ref v, k));
                if (sIntersect > Unsafe.Add(ref zb, k)) break;
                k--;
            }
            k++;
            Unsafe.Add(ref v, k) = q;
            Unsafe.Add(ref fv, k) = fq;
            Unsafe.Add(ref g, k) = gq;
            Unsafe.Add(ref zb, k) = k == 0 ? double.NegativeInfinity : sIntersect;
            Unsafe.Add(ref zb, k + 1) = double.PositiveInfinity;
            if (feat is not null) sc.VFeat[k] = feat[start + q];
        }
        if (k < 0) return; // no finite value in the stretch: later passes fill it
        int j = 0;
        for (int p = p0; p <= p1; p++)
        {
            while (Unsafe.Add(ref zb, j + 1) < p) j++;
            double dp = p - Unsafe.Add(ref v, j);
            Unsafe.Add(ref col, p) = w * dp * dp + Unsafe.Add(ref fv, j);
            if (feat is not null) feat[start + p] = sc.VFeat[j];
        }
    }
}
