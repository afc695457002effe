using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Thresholding;
using BatchCohort.Imaging.Processing;

namespace BatchCohort.Imaging.Processing.Exposure;

public static partial class Intensity
{
    /// <summary>
    /// scipy.ndimage.histogram(input, min, max, bins): counts in <paramref name="bins"/> equal bins with edges
    /// linspace(min, max, bins + 1) (double); a bin holds edge[i] ≤ v &lt; edge[i+1], the last also v = max; values
    /// outside [min, max] are not counted.
    /// </summary>
    public static long[] Histogram(Volume input, double min, double max, int bins)
    {
        var b = Bins(input, min, max, bins);
        return b.Histogram(input.Data);
    }

    /// <summary>scipy.ndimage.histogram(input, min, max, bins, labels): only voxels where the mask is set (labels &gt; 0).</summary>
    public static long[] Histogram(Volume input, double min, double max, int bins, Mask labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var b = Bins(input, min, max, bins);
        if (labels.Shape != input.Shape) throw new ArgumentException($"labels shape {labels.Shape} does not match the input's shape {input.Shape}", nameof(labels));
        var m = labels.Data;
        return Accumulate(input.Data, b, 1, i => m[i] != 0 ? 0 : -1)[0];
    }

    /// <summary>
    /// scipy.ndimage.histogram(input, min, max, bins, labels, index): one histogram per value of
    /// <paramref name="index"/> over the voxels carrying that label; with <paramref name="index"/> null, one histogram
    /// of all voxels with label &gt; 0 (scipy's labels &gt; 0 rule).
    /// </summary>
    public static long[][] Histogram(Volume input, double min, double max, int bins, LabelMap labels, int[]? index = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var b = Bins(input, min, max, bins);
        if (labels.Shape != input.Shape) throw new ArgumentException($"labels shape {labels.Shape} does not match the input's shape {input.Shape}", nameof(labels));
        var l = labels.Data;
        if (index is null) return Accumulate(input.Data, b, 1, i => l[i] > 0 ? 0 : -1);
        if (index.Length == 0) throw new ArgumentException("index is empty", nameof(index));
        var slot = new Dictionary<int, int>();
        for (int k = 0; k < index.Length; k++) slot.TryAdd(index[k], k);
        int lo = index.Min(), hi = index.Max();
        if ((long)hi - lo < 1_000_000)
        {
            var table = new int[hi - lo + 1];
            Array.Fill(table, -1);
            foreach (var kv in slot) table[kv.Key - lo] = kv.Value;
            var perSlot = Accumulate(input.Data, b, slot.Count, i => { long t = (long)l[i] - lo; return (ulong)t < (ulong)table.Length ? table[t] : -1; });
            return index.Select(ix => (long[])perSlot[slot[ix]].Clone()).ToArray();
        }
        var ps = Accumulate(input.Data, b, slot.Count, i => slot.TryGetValue(l[i], out var s) ? s : -1);
        return index.Select(ix => (long[])ps[slot[ix]].Clone()).ToArray();
    }

    private static UniformBins Bins(Volume input, double min, double max, int bins)
    {
        Checks.Volume(input, nameof(input));
        if (bins < 1 || bins > 100_000_000) throw new ArgumentException($"bins must be in 1..1e8, got {bins}", nameof(bins));
        if (!double.IsFinite(min) || !double.IsFinite(max)) throw new ArgumentException($"histogram range [{min}, {max}] is not finite", nameof(min));
        if (!(max > min)) throw new ArgumentException($"max ({max}) must be greater than min ({min})", nameof(max));
        Checks.Finite(input, nameof(input));
        return new UniformBins(min, max, bins, float32Edges: false);
    }

    private static long[][] Accumulate(float[] data, UniformBins b, int slots, Func<int, int> slotOf)
    {
        int nb = b.Count;
        var total = new long[slots][];
        for (int s = 0; s < slots; s++) total[s] = new long[nb];
        int chunks = Math.Max(1, Math.Min(Parallelism.Degree * 2, data.Length / 65536));
        var sync = new object();
        Parallelism.ForPerWorker(chunks, () => 0, (c, _) =>
        {
            var local = new long[slots * nb];
            int a = (int)((long)data.Length * c / chunks), e = (int)((long)data.Length * (c + 1) / chunks);
            for (int i = a; i < e; i++)
            {
                int s = slotOf(i);
                if (s < 0) continue;
                int k = b.Index(data[i]);
                if (k >= 0) local[s * nb + k]++;
            }
            lock (sync) for (int s = 0; s < slots; s++) for (int k = 0; k < nb; k++) total[s][k] += local[s * nb + k];
        });
        return total;
    }

    /// <summary>
    /// skimage.exposure.histogram(image, nbins) for a float image: <paramref name="nbins"/> uniform bins over
    /// [min, max] (numpy.histogram, float32 edges) and float32 bin centres.
    /// </summary>
    public static (long[] Counts, float[] BinCenters) ExposureHistogram(Volume input, int nbins = 256)
    {
        Checks.Volume(input, nameof(input));
        var (c, centers) = Thresholds.ImageHistogram(input.Data, nbins, nameof(input), out _);
        return (c, centers);
    }

    /// <summary>
    /// skimage.exposure.cumulative_distribution(image, nbins): the normalised cumulative histogram (float32, last
    /// value 1) at the bin centres.
    /// </summary>
    public static (float[] Cdf, float[] BinCenters) CumulativeDistribution(Volume input, int nbins = 256)
    {
        Checks.Volume(input, nameof(input));
        return Cdf(input.Data, nbins, nameof(input));
    }

    private static (float[] Cdf, float[] BinCenters) Cdf(float[] data, int nbins, string name)
    {
        var (c, centers) = Thresholds.ImageHistogram(data, nbins, name, out _);
        var cdf = new float[c.Length];
        long acc = 0, total = 0;
        foreach (var x in c) total += x;
        for (int i = 0; i < c.Length; i++) { acc += c[i]; cdf[i] = (float)(acc / (double)total); }
        return (cdf, centers);
    }
}
