using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Exposure;

namespace BatchCohort.Imaging.Processing.Thresholding;

/// <summary>
/// Global and local thresholds with scikit-image's names and semantics (skimage.filters.threshold_*), computed on
/// float32 data exactly as scikit-image does for a float image: a numpy.histogram of <c>nbins</c> uniform bins over
/// [min, max] and bin centres in float32. (For an integer-typed numpy array scikit-image instead uses one bin per
/// integer value; our volumes are float32, so we follow the float path — see README, "Processing".)
/// Values are returned as the bin centre scikit-image would return; voxels &gt; threshold are foreground.
/// </summary>
public static partial class Thresholds
{
    /// <summary>skimage.filters.threshold_otsu(image, nbins=256): the bin centre maximising the between-class variance.</summary>
    public static float Otsu(Volume input, int nbins = 256)
    {
        Checks.Volume(input, nameof(input));
        return Otsu(input.Data, nbins);
    }

    /// <inheritdoc cref="Otsu(Volume, int)"/>
    public static float Otsu(float[] data, int nbins = 256)
    {
        var h = ImageHistogram(data, nbins, nameof(data), out float? single);
        if (single is float only) return only;
        var (counts, centers) = h;
        int n = counts.Length;
        // weight1/mean1 from the left, weight2/mean2 from the right, as cumulative sums in double (numpy order)
        var w1 = new double[n];
        var m1 = new double[n];
        double cw = 0, cm = 0;
        for (int i = 0; i < n; i++) { cw += counts[i]; cm += counts[i] * (double)centers[i]; w1[i] = cw; m1[i] = cm / cw; }
        var w2 = new double[n];
        var m2 = new double[n];
        cw = 0; cm = 0;
        for (int i = n - 1; i >= 0; i--) { cw += counts[i]; cm += counts[i] * (double)centers[i]; w2[i] = cw; m2[i] = cm / cw; }
        int best = 0;
        double bestV = double.NegativeInfinity;
        for (int i = 0; i < n - 1; i++)
        {
            double d = m1[i] - m2[i + 1];
            double v = w1[i] * w2[i + 1] * d * d;
            if (v > bestV) { bestV = v; best = i; } // first maximum, like np.argmax (no NaN: end bins are never empty)
        }
        return centers[best];
    }

    /// <summary>
    /// skimage.exposure.histogram for a float image: counts and float32 bin centres of <paramref name="nbins"/>
    /// uniform bins over [min, max]. <paramref name="single"/> is set when all values are equal (skimage's early return).
    /// </summary>
    internal static (long[] Counts, float[] Centers) ImageHistogram(float[] data, int nbins, string name, out float? single)
    {
        ArgumentNullException.ThrowIfNull(data, name);
        if (data.Length == 0) throw new ArgumentException("data is empty", name);
        if (nbins < 1) throw new ArgumentException($"nbins must be ≥ 1, got {nbins}", nameof(nbins));
        var (lo, hi) = MinMax.OfFinite(data, name); // also rejects NaN/±Inf
        single = null;
        double dlo = lo, dhi = hi;
        if (lo == hi) { single = lo; dlo = lo - 0.5; dhi = hi + 0.5; }
        var bins = new UniformBins(dlo, dhi, nbins, float32Edges: true);
        return (bins.Histogram(data), bins.CentersF32());
    }
}
