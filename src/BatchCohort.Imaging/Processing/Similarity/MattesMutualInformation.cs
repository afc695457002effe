using BatchCohort.Imaging.Processing.Exposure;
namespace BatchCohort.Imaging.Processing.Similarity;

/// <summary>
/// Mattes mutual information (Mattes et al., IEEE TMI 2003; the ITK/elastix metric): a joint histogram built with
/// Parzen windows — a zero-order (box) kernel for the fixed image and a cubic B-spline kernel for the moving image —
/// so MI is a smooth function of the moving intensities and can be differentiated.
/// Definition used here (and by the oracle): B bins with P = 2 padding bins each side; bin widths
/// w = (max − min) / (B − 2P); fixed bin ι = clamp(⌊(f − f_min)/w_f + P⌋, P, B−P−1); moving position
/// η = (m − m_min)/w_m + P with k₀ = clamp(⌊η⌋, P, B−P−1) and weights β³(k − η) for k = k₀−1 … k₀+2.
/// p = joint / N; MI = Σ p ln(p / (p_f p_m)) in nats.
/// An instance keeps its histogram buffers and intensity ranges, for repeated evaluation in a registration loop
/// (not thread-safe; use one per thread).
/// </summary>
public sealed class MattesMutualInformation
{
    public const int Padding = 2;

    private readonly double[] _joint;
    private readonly double[] _pm;
    private readonly double[] _pf;

    public MattesMutualInformation(int bins, double fixedMin, double fixedMax, double movingMin, double movingMax)
    {
        if (bins < 2 * Padding + 2 || bins > 1024) throw new ArgumentOutOfRangeException(nameof(bins), bins, $"bins must be in {2 * Padding + 2}..1024");
        if (!(fixedMax > fixedMin) || !double.IsFinite(fixedMin) || !double.IsFinite(fixedMax))
            throw new ArgumentException($"fixed intensity range [{fixedMin}, {fixedMax}] is empty: the fixed image is constant", nameof(fixedMax));
        if (!(movingMax > movingMin) || !double.IsFinite(movingMin) || !double.IsFinite(movingMax))
            throw new ArgumentException($"moving intensity range [{movingMin}, {movingMax}] is empty: the moving image is constant", nameof(movingMax));
        Bins = bins;
        FixedMin = fixedMin;
        MovingMin = movingMin;
        FixedBinWidth = (fixedMax - fixedMin) / (bins - 2 * Padding);
        MovingBinWidth = (movingMax - movingMin) / (bins - 2 * Padding);
        _joint = new double[bins * bins];
        _pm = new double[bins];
        _pf = new double[bins];
    }

    public int Bins { get; }
    public double FixedMin { get; }
    public double MovingMin { get; }
    public double FixedBinWidth { get; }
    public double MovingBinWidth { get; }

    /// <summary>MI of two images on the same grid, ranges from the (masked) data, as one call.</summary>
    public static double Compute(ReadOnlySpan<float> fixedImage, ReadOnlySpan<float> movingImage, int bins = 50, ReadOnlySpan<byte> mask = default)
    {
        ImageSimilarity.Check(fixedImage, movingImage, mask);
        var (fl, fh) = ImageSimilarity.MinMax(fixedImage, mask);
        var (ml, mh) = ImageSimilarity.MinMax(movingImage, mask);
        if (double.IsInfinity(fl)) throw new ArgumentException("mask selects no voxels", nameof(mask));
        if (!(fh > fl)) throw new ArgumentException("fixed image is constant where compared; mutual information is undefined", nameof(fixedImage));
        if (!(mh > ml)) throw new ArgumentException("moving image is constant where compared; mutual information is undefined", nameof(movingImage));
        var mi = new MattesMutualInformation(bins, fl, fh, ml, mh);
        if (mask.IsEmpty) return mi.Evaluate(fixedImage, movingImage);
        int n = 0;
        for (int i = 0; i < mask.Length; i++) if (mask[i] != 0) n++;
        var f = new float[n];
        var m = new float[n];
        for (int i = 0, k = 0; i < mask.Length; i++) if (mask[i] != 0) { f[k] = fixedImage[i]; m[k] = movingImage[i]; k++; }
        return mi.Evaluate(f, m);
    }

    /// <summary>Fixed-image bin of an intensity.</summary>
    public int FixedBin(float f)
    {
        int b = (int)Math.Floor((f - FixedMin) / FixedBinWidth + Padding);
        return Math.Clamp(b, Padding, Bins - Padding - 1);
    }

    /// <summary>Moving Parzen window: first bin k₀−1 and the four cubic B-spline weights.</summary>
    public int MovingWindow(float m, out double w0, out double w1, out double w2, out double w3)
    {
        double eta = (m - MovingMin) / MovingBinWidth + Padding;
        int k0 = (int)Math.Floor(eta);
        if (k0 < Padding) k0 = Padding; else if (k0 > Bins - Padding - 1) k0 = Bins - Padding - 1;
        double u = eta - k0;
        if (u < 0) u = 0; else if (u > 1) u = 1;
        double v = 1 - u, u2 = u * u;
        w0 = v * v * v / 6.0;
        w1 = (3.0 * u2 * u - 6.0 * u2 + 4.0) / 6.0;
        w2 = (-3.0 * u2 * u + 3.0 * u2 + 3.0 * u + 1.0) / 6.0;
        w3 = u2 * u / 6.0;
        return k0 - 1;
    }

    /// <summary>MI of paired samples (fixed[i], moving[i]); values outside the configured ranges are clamped into the end bins.</summary>
    public double Evaluate(ReadOnlySpan<float> fixedValues, ReadOnlySpan<float> movingValues)
    {
        if (movingValues.Length != fixedValues.Length)
            throw new ArgumentException($"{movingValues.Length} moving samples for {fixedValues.Length} fixed samples", nameof(movingValues));
        if (fixedValues.IsEmpty) throw new ArgumentException("no samples", nameof(fixedValues));
        Array.Clear(_joint);
        int B = Bins;
        for (int i = 0; i < fixedValues.Length; i++)
        {
            int row = FixedBin(fixedValues[i]) * B;
            int k = MovingWindow(movingValues[i], out var w0, out var w1, out var w2, out var w3);
            _joint[row + k] += w0;
            _joint[row + k + 1] += w1;
            _joint[row + k + 2] += w2;
            _joint[row + k + 3] += w3;
        }
        return FromJoint(_joint, fixedValues.Length);
    }

    /// <summary>MI from an unnormalised joint table (B×B, fixed-major) whose total is <paramref name="total"/>.</summary>
    internal double FromJoint(double[] joint, double total)
    {
        int B = Bins;
        Array.Clear(_pf);
        Array.Clear(_pm);
        double inv = 1.0 / total;
        for (int i = 0; i < B; i++)
            for (int k = 0; k < B; k++)
            {
                double p = joint[i * B + k] * inv;
                _pf[i] += p;
                _pm[k] += p;
            }
        double mi = 0;
        for (int i = 0; i < B; i++)
        {
            if (_pf[i] <= 0) continue;
            for (int k = 0; k < B; k++)
            {
                double p = joint[i * B + k] * inv;
                if (p > 0) mi += p * Math.Log(p / (_pf[i] * _pm[k]));
            }
        }
        return mi;
    }
}
