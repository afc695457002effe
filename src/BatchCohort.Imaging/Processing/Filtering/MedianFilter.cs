using System.Buffers;
using System.Numerics;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing;

namespace BatchCohort.Imaging.Processing.Filtering;

public static partial class Filters
{
    /// <summary>Windows up to this many voxels use the SIMD selection network; larger ones a per-voxel quickselect.</summary>
    internal const int NetworkMaxWindow = 128;

    /// <summary>
    /// scipy.ndimage.median_filter(input, size): the median of the box of <paramref name="size"/> voxels per axis
    /// (for an even count, scipy's rank count/2, i.e. the upper median), boundary by <paramref name="mode"/>,
    /// window placed as scipy does (i − size/2 − origin …). Windows of up to 128 voxels (3×3×3, 5×5×5, 3×3×1 …) run
    /// a branch-free selection network on 8 voxels at once; larger windows use quickselect per voxel.
    /// </summary>
    public static Volume MedianFilter(Volume input, Size3 size, BoundaryMode mode = BoundaryMode.Reflect, double cval = 0.0,
        Offset3 origin = default, Volume? output = null)
    {
        Checks.Volume(input, nameof(input));
        Size(size, nameof(size));
        if (size.Count > 1_000_000) throw new ArgumentException($"window {size} of {size.Count} voxels is absurd for a median filter", nameof(size));
        var shift = new int[3];
        for (int a = 0; a < 3; a++)
        {
            shift[a] = size[a] / 2 + origin[a];
            if (shift[a] < 0 || shift[a] >= size[a])
                throw new ArgumentException($"origin {origin[a]} along axis {a} is invalid for size {size[a]}", nameof(origin));
        }
        var o = Begin(input, output, mode, cval);
        int n = (int)size.Count;
        if (n == 1) { Array.Copy(input.Data, o.Data, input.Data.Length); return o; }
        RankFilterCore(input, o, size, shift, n / 2, mode, (float)cval);
        return o;
    }

    private static unsafe void RankFilterCore(Volume input, Volume o, Size3 size, int[] shift, int rank, BoundaryMode mode, float cval)
    {
        var s = input.Shape;
        int X = s.X, Y = s.Y, Z = s.Z, slice = X * Y;
        int sx = size.X, sy = size.Y, sz = size.Z, n = (int)size.Count;
        int vc = Vector<float>.Count;
        int stride = X + sx - 1 + vc;                 // padded row + room for a full vector at the tail
        int nRows = sy * sz;
        bool network = n <= NetworkMaxWindow && Vector.IsHardwareAccelerated;
        var net = network ? SelectionNetwork.For(n, rank) : null;
        var comps = net?.Comparators;
        var src = input.Data;
        var dst = o.Data;
        var constRow = new float[X];
        if (mode == BoundaryMode.Constant) Array.Fill(constRow, cval);
        Parallelism.ForPerWorker(Z, () => (Pads: ArrayPool<float>.Shared.Rent(nRows * stride), Scratch: ArrayPool<float>.Shared.Rent(Math.Max(n, vc))),
            (z, buf) =>
            {
                fixed (float* ps = src, pd = dst, pads = buf.Pads, scratch = buf.Scratch, cr = constRow)
                {
                    Vector<float>* v = stackalloc Vector<float>[network ? n : 1];
                    for (int y = 0; y < Y; y++)
                    {
                        // pad the sy·sz source rows this output row needs
                        for (int kz = 0; kz < sz; kz++)
                        for (int ky = 0; ky < sy; ky++)
                        {
                            int ry = Boundary.Map(y + ky - shift[1], Y, mode), rz = Boundary.Map(z + kz - shift[2], Z, mode);
                            float* row = ry < 0 || rz < 0 ? cr : ps + (long)rz * slice + (long)ry * X;
                            float* pr = pads + (long)(kz * sy + ky) * stride;
                            Separable.PadRow(row, X, shift[0], sx, mode, cval, pr);
                            new Span<float>(pr + X + sx - 1, vc).Clear();
                        }
                        float* orow = pd + (long)z * slice + (long)y * X;
                        if (network)
                        {
                            for (int x0 = 0; x0 < X; x0 += vc)
                            {
                                int m = 0;
                                for (int r = 0; r < nRows; r++)
                                {
                                    float* pr = pads + (long)r * stride + x0;
                                    for (int kx = 0; kx < sx; kx++) v[m++] = Vector.Load(pr + kx);
                                }
                                foreach (var (a, b) in comps!)
                                {
                                    var va = v[a];
                                    var vb = v[b];
                                    v[a] = Vector.MinNative(va, vb);
                                    v[b] = Vector.MaxNative(va, vb);
                                }
                                if (x0 + vc <= X) Vector.Store(v[net!.Output], orow + x0);
                                else
                                {
                                    Vector.Store(v[net!.Output], scratch);
                                    for (int i = 0; x0 + i < X; i++) orow[x0 + i] = scratch[i];
                                }
                            }
                        }
                        else
                        {
                            for (int x = 0; x < X; x++)
                            {
                                int m = 0;
                                for (int r = 0; r < nRows; r++)
                                {
                                    float* pr = pads + (long)r * stride + x;
                                    for (int kx = 0; kx < sx; kx++) scratch[m++] = pr[kx];
                                }
                                orow[x] = QuickSelect(new Span<float>(scratch, n), rank);
                            }
                        }
                    }
                }
            },
            buf => { ArrayPool<float>.Shared.Return(buf.Pads); ArrayPool<float>.Shared.Return(buf.Scratch); });
    }

    /// <summary>The element of rank k (0-based) of a; reorders a (Hoare partition, median-of-three pivot).</summary>
    internal static float QuickSelect(Span<float> a, int k)
    {
        int lo = 0, hi = a.Length - 1;
        while (hi > lo)
        {
            int mid = lo + (hi - lo) / 2;
            if (a[mid] < a[lo]) (a[mid], a[lo]) = (a[lo], a[mid]);
            if (a[hi] < a[lo]) (a[hi], a[lo]) = (a[lo], a[hi]);
            if (a[hi] < a[mid]) (a[hi], a[mid]) = (a[mid], a[hi]);
            float pivot = a[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) { (a[i], a[j]) = (a[j], a[i]); i++; j--; }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return a[k];
        }
        return a[k];
    }
}
