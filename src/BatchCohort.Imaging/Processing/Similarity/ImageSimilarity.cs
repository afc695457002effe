using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Imaging.Processing.Exposure;

namespace BatchCohort.Imaging.Processing.Similarity;

/// <summary>
/// Intensity similarity between two images on the same grid (flattened voxels), optionally within a mask
/// (nonzero bytes select voxels). Sums run in double precision. Names follow skimage.metrics where one exists.
/// Bad input — different lengths, NaN/∞, a mask that selects nothing, a constant image where a measure needs
/// variance — throws <see cref="ArgumentException"/> naming the argument.
/// </summary>
public static class ImageSimilarity
{
    /// <summary>mean |a − b|.</summary>
    public static double MeanAbsoluteError(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<byte> mask = default)
    {
        Check(a, b, mask);
        double s = 0; long n = 0;
        if (mask.IsEmpty) { s = BlockSum(a, b, squared: false); n = a.Length; }
        else for (int i = 0; i < a.Length; i++) if (mask[i] != 0) { s += Math.Abs((double)a[i] - b[i]); n++; }
        return s / NonEmpty(n);
    }

    /// <summary>mean (a − b)² (skimage.metrics.mean_squared_error).</summary>
    public static double MeanSquaredError(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<byte> mask = default)
    {
        Check(a, b, mask);
        double s = 0; long n = 0;
        if (mask.IsEmpty) { s = BlockSum(a, b, squared: true); n = a.Length; }
        else for (int i = 0; i < a.Length; i++) if (mask[i] != 0) { double d = (double)a[i] - b[i]; s += d * d; n++; }
        return s / NonEmpty(n);
    }

    /// <summary>
    /// Normalised cross-correlation (Pearson's r, numpy.corrcoef): Σ(a−ā)(b−b̄) / √(Σ(a−ā)² Σ(b−b̄)²), in [−1, 1].
    /// </summary>
    public static double NormalizedCrossCorrelation(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<byte> mask = default)
    {
        Check(a, b, mask);
        double sa = 0, sb = 0; long n = 0;
        for (int i = 0; i < a.Length; i++)
            if (mask.IsEmpty || mask[i] != 0) { sa += a[i]; sb += b[i]; n++; }
        NonEmpty(n);
        double ma = sa / n, mb = sb / n, saa = 0, sbb = 0, sab = 0;
        for (int i = 0; i < a.Length; i++)
            if (mask.IsEmpty || mask[i] != 0)
            {
                double da = a[i] - ma, db = b[i] - mb;
                saa += da * da; sbb += db * db; sab += da * db;
            }
        if (saa == 0) throw new ArgumentException("image is constant (zero variance) where compared; correlation is undefined", nameof(a));
        if (sbb == 0) throw new ArgumentException("image is constant (zero variance) where compared; correlation is undefined", nameof(b));
        return sab / Math.Sqrt(saa * sbb);
    }

    /// <summary>
    /// Joint histogram with numpy.histogram2d's binning: bins equal-width between each image's min and max
    /// (widened by ±0.5 when constant), a value on the last edge counted in the last bin. Returns counts [binA, binB].
    /// </summary>
    public static long[,] JointHistogram(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int binsA, int binsB, ReadOnlySpan<byte> mask = default)
    {
        Check(a, b, mask);
        if (binsA < 1 || binsA > 4096) throw new ArgumentOutOfRangeException(nameof(binsA), binsA, "bins must be in 1..4096");
        if (binsB < 1 || binsB > 4096) throw new ArgumentOutOfRangeException(nameof(binsB), binsB, "bins must be in 1..4096");
        var (loA, hiA) = MinMax(a, mask);
        var (loB, hiB) = MinMax(b, mask);
        var ea = Edges(loA, hiA, binsA);
        var eb = Edges(loB, hiB, binsB);
        var h = new long[binsA, binsB];
        long n = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (!mask.IsEmpty && mask[i] == 0) continue;
            h[Bin(a[i], ea), Bin(b[i], eb)]++;
            n++;
        }
        NonEmpty(n);
        return h;
    }

    /// <summary>
    /// Mutual information in nats from the plain joint histogram (numpy.histogram2d binning):
    /// Σ p(i,j) ln(p(i,j) / (p(i) p(j))).
    /// </summary>
    public static double MutualInformation(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int bins = 32, ReadOnlySpan<byte> mask = default)
    {
        var h = JointHistogram(a, b, bins, bins, mask);
        return MutualInformation(Normalise(h));
    }

    /// <summary>
    /// Studholme's normalised mutual information (H(A) + H(B)) / H(A, B), in [1, 2] — skimage.metrics.normalized_mutual_information (bins=100 there).
    /// </summary>
    public static double NormalizedMutualInformation(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int bins = 100, ReadOnlySpan<byte> mask = default)
    {
        var p = Normalise(JointHistogram(a, b, bins, bins, mask));
        int na = p.GetLength(0), nb = p.GetLength(1);
        var pa = new double[na];
        var pb = new double[nb];
        double hab = 0;
        for (int i = 0; i < na; i++)
            for (int j = 0; j < nb; j++)
            {
                double v = p[i, j];
                pa[i] += v; pb[j] += v;
                if (v > 0) hab -= v * Math.Log(v);
            }
        double ha = 0, hb = 0;
        foreach (var v in pa) if (v > 0) ha -= v * Math.Log(v);
        foreach (var v in pb) if (v > 0) hb -= v * Math.Log(v);
        if (hab == 0) return 2.0; // both constant: identical
        return (ha + hb) / hab;
    }

    /// <summary>MI of a normalised joint probability table.</summary>
    public static double MutualInformation(double[,] p)
    {
        ArgumentNullException.ThrowIfNull(p);
        int na = p.GetLength(0), nb = p.GetLength(1);
        var pa = new double[na];
        var pb = new double[nb];
        for (int i = 0; i < na; i++) for (int j = 0; j < nb; j++) { pa[i] += p[i, j]; pb[j] += p[i, j]; }
        double mi = 0;
        for (int i = 0; i < na; i++)
            for (int j = 0; j < nb; j++)
            {
                double v = p[i, j];
                if (v > 0) mi += v * Math.Log(v / (pa[i] * pb[j]));
            }
        return mi;
    }

    private static double[,] Normalise(long[,] h)
    {
        double total = 0;
        foreach (var c in h) total += c;
        var p = new double[h.GetLength(0), h.GetLength(1)];
        for (int i = 0; i < h.GetLength(0); i++) for (int j = 0; j < h.GetLength(1); j++) p[i, j] = h[i, j] / total;
        return p;
    }

    // Σ|a−b| or Σ(a−b)², in double (floats widened), SIMD
    private static double BlockSum(ReadOnlySpan<float> a, ReadOnlySpan<float> b, bool squared)
    {
        int w = System.Numerics.Vector<float>.Count;
        var acc = System.Numerics.Vector<double>.Zero;
        int i = 0;
        for (; i <= a.Length - w; i += w)
        {
            System.Numerics.Vector.Widen(new System.Numerics.Vector<float>(a.Slice(i)), out var a0, out var a1);
            System.Numerics.Vector.Widen(new System.Numerics.Vector<float>(b.Slice(i)), out var b0, out var b1);
            var d0 = a0 - b0; var d1 = a1 - b1;
            acc += squared ? d0 * d0 + d1 * d1 : System.Numerics.Vector.Abs(d0) + System.Numerics.Vector.Abs(d1);
        }
        double total = System.Numerics.Vector.Sum(acc);
        for (; i < a.Length; i++) { double d = (double)a[i] - b[i]; total += squared ? d * d : Math.Abs(d); }
        return total;
    }

    internal static (double Lo, double Hi) MinMax(ReadOnlySpan<float> a, ReadOnlySpan<byte> mask)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        for (int i = 0; i < a.Length; i++)
        {
            if (!mask.IsEmpty && mask[i] == 0) continue;
            float v = a[i];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        return (lo, hi);
    }

    // numpy.linspace(lo, hi, bins + 1) after histogramdd widens a zero range by ±0.5
    private static double[] Edges(double lo, double hi, int bins)
    {
        if (lo == hi) { lo -= 0.5; hi += 0.5; }
        var e = new double[bins + 1];
        double step = (hi - lo) / bins;
        for (int i = 0; i <= bins; i++) e[i] = i * step + lo;
        e[bins] = hi;
        return e;
    }

    // searchsorted(edges, v, 'right') − 1, with v == last edge in the last bin
    private static int Bin(double v, double[] e)
    {
        int bins = e.Length - 1;
        int i = (int)((v - e[0]) / (e[bins] - e[0]) * bins);
        if (i < 0) i = 0; else if (i > bins - 1) i = bins - 1;
        while (i > 0 && v < e[i]) i--;
        while (i < bins - 1 && v >= e[i + 1]) i++;
        return i;
    }

    internal static void Check(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<byte> mask)
    {
        if (a.IsEmpty) throw new ArgumentException("image is empty", nameof(a));
        if (b.Length != a.Length) throw new ArgumentException($"images differ in size: a has {a.Length} voxels, b has {b.Length}", nameof(b));
        if (!mask.IsEmpty && mask.Length != a.Length) throw new ArgumentException($"mask has {mask.Length} voxels but the images have {a.Length}", nameof(mask));
        GeometryChecks.Finite(a, nameof(a));
        GeometryChecks.Finite(b, nameof(b));
    }

    private static long NonEmpty(long n)
    {
        if (n == 0) throw new ArgumentException("mask selects no voxels", "mask");
        return n;
    }
}
