using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Exposure;
using BatchCohort.Imaging.Processing;

namespace BatchCohort.Imaging.Processing.Thresholding;

public static partial class Thresholds
{
    /// <summary>
    /// skimage.filters.threshold_triangle(image, nbins=256) (Zack et al. 1977): the line from the histogram peak to
    /// the far end of the longer tail; the bin furthest below it. Same histogram, tie-breaking and flip as scikit-image.
    /// </summary>
    public static float Triangle(Volume input, int nbins = 256)
    {
        Checks.Volume(input, nameof(input));
        var (hist, centers) = ImageHistogram(input.Data, nbins, nameof(input), out _);
        int n = hist.Length;
        int peak = 0;
        for (int i = 1; i < n; i++) if (hist[i] > hist[peak]) peak = i;
        long peakHeight = hist[peak];
        int low = 0, high = n - 1;
        while (hist[low] == 0) low++;
        while (hist[high] == 0) high--;
        bool flip = peak - low < high - peak;
        long[] h = hist;
        if (flip)
        {
            h = (long[])hist.Clone();
            Array.Reverse(h);
            low = n - high - 1;
            peak = n - peak - 1;
        }
        int width = peak - low;
        double norm = Math.Sqrt((double)(peakHeight * peakHeight + (long)width * width));
        double ph = peakHeight / norm, w = width / norm;
        int best = 0;
        double bestLen = double.NegativeInfinity;
        for (int x = 0; x < width; x++)
        {
            double len = ph * x - w * h[x + low];
            if (len > bestLen) { bestLen = len; best = x; }
        }
        // np.argmax of an empty range raises in scikit-image; a histogram whose peak is its first bin gives level = low
        int level = best + low;
        if (flip) level = n - level - 1;
        return centers[level];
    }

    /// <summary>
    /// skimage.filters.threshold_isodata(image, nbins=256) (Ridler &amp; Calvard 1978, on the histogram): the lowest
    /// bin centre t with t ≤ (mean below-or-at t + mean above t)/2 &lt; t + bin width, computed in float32 like
    /// scikit-image. See <see cref="IterativeMean"/> for the course's iteration on the raw voxel values.
    /// </summary>
    public static float Isodata(Volume input, int nbins = 256)
    {
        Checks.Volume(input, nameof(input));
        var (counts, centers) = ImageHistogram(input.Data, nbins, nameof(input), out _);
        int n = counts.Length;
        if (n == 1) return centers[0];
        // float32 cumulative sums in numpy's sequential order
        var csuml = new float[n];
        var csumI = new float[n];
        float a = 0, b = 0;
        for (int i = 0; i < n; i++)
        {
            float c = counts[i];
            a += c;
            b += c * centers[i];
            csuml[i] = a;
            csumI[i] = b;
        }
        float binWidth = centers[1] - centers[0];
        for (int i = 0; i < n - 1; i++)
        {
            float lower = csumI[i] / csuml[i];
            float csumh = csuml[n - 1] - csuml[i];
            float higher = (csumI[n - 1] - csumI[i]) / csumh;
            float allMean = (lower + higher) / 2.0f;
            float distance = allMean - centers[i];
            if (distance >= 0 && distance < binWidth) return centers[i];
        }
        throw new ArgumentException("no ISODATA threshold exists for this histogram", nameof(input));
    }

    /// <summary>
    /// The course's iterative mean threshold on the raw voxel values (Ridler–Calvard): start at the mean; repeat
    /// T ← (mean of voxels ≤ T + mean of voxels &gt; T) / 2 until T stops changing (the partition is a fixed point)
    /// or <paramref name="maxIterations"/> is reached. Sums in double. Unlike <see cref="Isodata"/> it uses no
    /// histogram, and it returns the fixed point reached from the mean rather than the lowest one.
    /// </summary>
    public static double IterativeMean(Volume input, int maxIterations = 1000)
    {
        Checks.Volume(input, nameof(input));
        if (maxIterations < 1) throw new ArgumentException($"maxIterations must be ≥ 1, got {maxIterations}", nameof(maxIterations));
        var d = input.Data;
        var (lo, hi) = MinMax.OfFinite(d, nameof(input)); // also rejects NaN/±Inf
        if (lo == hi) return lo;
        var (s0, n0, s1, n1) = Split(d, double.PositiveInfinity);
        double t = (s0 + s1) / (n0 + n1);
        for (int it = 0; it < maxIterations; it++)
        {
            (s0, n0, s1, n1) = Split(d, t);
            double m0 = n0 > 0 ? s0 / n0 : t, m1 = n1 > 0 ? s1 / n1 : t;
            double next = (m0 + m1) / 2;
            if (next == t) break;
            t = next;
        }
        return t;
    }

    private static (double S0, long N0, double S1, long N1) Split(float[] d, double t)
    {
        int chunks = Math.Max(1, Math.Min(Parallelism.Degree * 4, d.Length / 65536));
        var parts = new (double, long, double, long)[chunks];
        Parallelism.ForPerWorker(chunks, () => 0, (c, _) =>
        {
            int a = (int)((long)d.Length * c / chunks), e = (int)((long)d.Length * (c + 1) / chunks);
            double s0 = 0, s1 = 0;
            long n0 = 0;
            for (int i = a; i < e; i++)
            {
                float v = d[i];
                if (v <= t) { s0 += v; n0++; } else s1 += v;
            }
            parts[c] = (s0, n0, s1, e - a - n0);
        });
        double S0 = 0, S1 = 0;
        long N0 = 0, N1 = 0;
        foreach (var p in parts) { S0 += p.Item1; N0 += p.Item2; S1 += p.Item3; N1 += p.Item4; }
        return (S0, N0, S1, N1);
    }
}
