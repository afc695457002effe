using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Exposure;

/// <summary>
/// Intensity statistics and transforms with numpy / scipy.ndimage / skimage.exposure names and semantics
/// (see README, "Processing"). Inputs must be free of NaN/±Inf.
/// </summary>
public static partial class Intensity
{
    /// <summary>
    /// numpy.percentile(data, q) with the default 'linear' method: sorted[⌊i⌋] + (sorted[⌊i⌋+1] − sorted[⌊i⌋])·frac(i),
    /// i = (n − 1)·q/100. Exact order statistics by radix selection (no copy of the data).
    /// </summary>
    public static double[] Percentile(Volume input, params double[] q)
    {
        Checks.Volume(input, nameof(input));
        return Percentile(input.Data, q);
    }

    /// <inheritdoc cref="Percentile(Volume, double[])"/>
    public static double Percentile(Volume input, double q) => Percentile(input, new[] { q })[0];

    /// <inheritdoc cref="Percentile(Volume, double[])"/>
    public static double[] Percentile(float[] data, params double[] q)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(q);
        if (data.Length == 0) throw new ArgumentException("data is empty: no percentile", nameof(data));
        if (q.Length == 0) throw new ArgumentException("no percentile requested", nameof(q));
        foreach (var p in q)
            if (!(p >= 0 && p <= 100)) throw new ArgumentException($"percentiles must be in [0, 100], got {p}", nameof(q));
        Checks.Finite(data, nameof(data));
        long n = data.LongLength;
        var ranks = new long[2 * q.Length];
        var gamma = new double[q.Length];
        for (int i = 0; i < q.Length; i++)
        {
            double vi = (n - 1) * (q[i] / 100.0);
            long lo = (long)Math.Floor(vi);
            gamma[i] = vi - lo;
            ranks[2 * i] = Math.Min(lo, n - 1);
            ranks[2 * i + 1] = Math.Min(lo + 1, n - 1);
        }
        var v = RadixSelect.Select(data, ranks);
        var result = new double[q.Length];
        for (int i = 0; i < q.Length; i++)
        {
            double a = v[2 * i], b = v[2 * i + 1], t = gamma[i], d = b - a;
            result[i] = t >= 0.5 ? b - d * (1 - t) : a + d * t; // numpy's _lerp
        }
        return result;
    }
}
