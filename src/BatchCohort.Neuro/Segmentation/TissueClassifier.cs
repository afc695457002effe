using BatchCohort.Imaging.Processing;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Volumes;
using MathNet.Numerics.LinearAlgebra;

namespace BatchCohort.Neuro.Segmentation;

/// <summary>Settings of <see cref="TissueClassifier"/>.</summary>
public sealed record TissueClassifierSettings
{
    /// <summary>Alternations of classification and bias-field fitting (0 = no bias correction).</summary>
    public int BiasRounds { get; init; } = 3;
    /// <summary>Degree of the polynomial (in x, y, z) modelling the log bias field.</summary>
    public int BiasDegree { get; init; } = 3;
    /// <summary>Voxel stride used when fitting the bias field (speed; the field is smooth).</summary>
    public int BiasFitStride { get; init; } = 3;
    /// <summary>Weight w of the atlas's spatial tissue priors (<see cref="TissuePriors"/>) in the final labelling: the
    /// prior of class c at a voxel is w·P_atlas(c) + (1 − w)/3 (a uniform floor, so the image still decides where the
    /// anatomy differs from the atlas's). 0: no priors (nearest centre, the k-means labels).</summary>
    public double PriorWeight { get; init; } = 0.0;
    /// <summary>Gaussian FWHM (mm) by which the atlas's tissue classes are smoothed into prior maps.</summary>
    public double PriorFwhmMm { get; init; } = 8.0;
}

/// <summary>Result of <see cref="TissueClassifier.Classify"/>.</summary>
public sealed class TissueClassification
{
    internal TissueClassification(Shape3 shape, byte[] labels, double[] centres, float[] biasField, long[] counts)
    {
        Shape = shape; Labels = labels; Centres = centres; BiasField = biasField; Counts = counts;
    }

    public Shape3 Shape { get; }
    /// <summary>0 outside the mask, 1 CSF, 2 GM, 3 WM (the dseg labels of our outputs).</summary>
    public byte[] Labels { get; }
    /// <summary>Class centres (CSF, GM, WM) of the bias-corrected intensities.</summary>
    public double[] Centres { get; }
    /// <summary>The fitted multiplicative bias field (1 outside the mask).</summary>
    public float[] BiasField { get; }
    /// <summary>Voxel counts of CSF, GM, WM.</summary>
    public long[] Counts { get; }

    public const byte CsfLabel = 1, GmLabel = 2, WmLabel = 3;
}

/// <summary>
/// CSF / grey / white matter inside an intracranial mask of a T1 image: three-class k-means of the intensities
/// (a voxel joins the nearest centre, i.e. thresholds half-way between centres), alternating with a smooth
/// multiplicative bias field fitted as a low-order polynomial of log intensity over the grey and white matter voxels
/// (the bias model of N3/SPM simplified to a polynomial). k-means rather than a Gaussian mixture: on T1 data the
/// partial-volume tail of grey matter makes a 3-Gaussian fit inflate CSF (measured on Colin27: CSF 0.9 L vs 0.1 L),
/// while nearest-centre thresholds are stable under noise and match the synthetic truth's definition.
/// Optionally (<see cref="TissueClassifierSettings.PriorWeight"/> &gt; 0 and <see cref="TissuePriors"/> given) a final MAP
/// step weighs the nearest-centre decision by atlas-derived spatial priors (off by default: docs/pipeline.md, "Tissue priors").
/// </summary>
public static class TissueClassifier
{
    /// <param name="priors">Optional spatial priors on the image's grid (used when <see cref="TissueClassifierSettings.PriorWeight"/>
    /// &gt; 0): after the k-means / bias rounds each voxel takes the class of highest posterior,
    /// prior × Gaussian likelihood with the k-means centres as means and their pooled within-class variance, i.e. the
    /// label maximising −(y − μ_c)² / 2σ² + ln π_c. With uniform priors that is exactly the nearest centre.</param>
    public static TissueClassification Classify(Volume image, Mask mask, TissueClassifierSettings? settings = null, TissuePriors? priors = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(mask);
        settings ??= new TissueClassifierSettings();
        var shape = image.Shape;
        if (mask.Shape != shape) throw new ArgumentException($"mask grid {mask.Shape} differs from the image's {shape}", nameof(mask));

        int n = 0;
        var md = mask.Data;
        for (int i = 0; i < md.Length; i++) if (md[i] != 0) n++;
        if (n < 1000) throw new ArgumentException($"the intracranial mask holds only {n} voxels; too few to classify tissue", nameof(mask));
        var idx = new int[n];
        for (int i = 0, k = 0; i < md.Length; i++) if (md[i] != 0) idx[k++] = i;
        var raw = new float[n];
        for (int k = 0; k < n; k++)
        {
            float v = image.Data[idx[k]];
            if (!float.IsFinite(v)) throw new ArgumentException("the image contains NaN or infinite values inside the intracranial mask", nameof(image));
            raw[k] = Math.Max(v, 1e-3f);
        }
        var y = (float[])raw.Clone();
        var logBias = new double[n];
        double[] centres = AtlasDerivation.KMeans1D(y, 3);
        for (int round = 0; round < settings.BiasRounds; round++)
        {
            FitBias(shape, idx, raw, y, centres, logBias, settings.BiasDegree, settings.BiasFitStride);
            for (int k = 0; k < n; k++) y[k] = (float)(raw[k] / Math.Exp(logBias[k]));
            centres = AtlasDerivation.KMeans1D(y, 3);
        }
        double t1 = (centres[0] + centres[1]) / 2, t2 = (centres[1] + centres[2]) / 2;
        var cls = new byte[n];
        for (int k = 0; k < n; k++) cls[k] = (byte)(y[k] <= t1 ? 0 : y[k] <= t2 ? 1 : 2);
        double w = settings.PriorWeight;
        if (!(w >= 0 && w <= 1)) throw new ArgumentException($"prior weight must be in [0, 1], got {w}", nameof(settings));
        if (priors is not null && w > 0)
        {
            if (priors.Shape != shape) throw new ArgumentException($"priors grid {priors.Shape} differs from the image's {shape}", nameof(priors));
            ApplyPriors(y, idx, cls, centres, priors, w);
        }
        var labels = new byte[shape.Count];
        var field = new float[shape.Count];
        Array.Fill(field, 1f);
        var counts = new long[3];
        for (int k = 0; k < n; k++)
        {
            int c = cls[k];
            counts[c]++;
            labels[idx[k]] = (byte)(c + 1);
            field[idx[k]] = (float)Math.Exp(logBias[k]);
        }
        return new TissueClassification(shape, labels, centres, field, counts);
    }

    /// <summary>The MAP step: equal-variance Gaussian likelihoods at the k-means centres (σ² pooled over the
    /// nearest-centre classes) times the mixed priors π_c = w·P(c) + (1 − w)/3; each voxel takes the argmax.</summary>
    internal static void ApplyPriors(float[] y, int[] idx, byte[] cls, double[] centres, TissuePriors priors, double w)
    {
        int n = y.Length;
        double ss = 0;
        for (int k = 0; k < n; k++) { double r = y[k] - centres[cls[k]]; ss += r * r; }
        double var2 = 2 * Math.Max(ss / n, 1e-12);
        double floor = (1 - w) / 3;
        Parallelism.For(0, n, k =>
        {
            int v = idx[k];
            double yk = y[k];
            double best = double.NegativeInfinity;
            int bc = 0;
            for (int c = 0; c < 3; c++)
            {
                double p = c == 0 ? priors.Csf[v] : c == 1 ? priors.Gm[v] : priors.Wm[v];
                double d = yk - centres[c];
                double s = -d * d / var2 + Math.Log(Math.Max(w * p + floor, 1e-12));
                if (s > best) { best = s; bc = c; }
            }
            cls[k] = (byte)bc;
        });
    }

    /// <summary>Least-squares fit of log(raw) − log(centre of the voxel's class) by a polynomial in normalised (x, y, z),
    /// over grey and white matter voxels (CSF is thin and noisy and is left out). The field's mean log is zero.</summary>
    private static void FitBias(Shape3 shape, int[] idx, float[] raw, float[] y, double[] centres, double[] logBias, int degree, int stride)
    {
        var terms = new List<(int a, int b, int c)>();
        for (int d = 0; d <= degree; d++)
            for (int a = d; a >= 0; a--)
                for (int c = d - a; c >= 0; c--)
                    terms.Add((a, d - a - c, c));
        int m = terms.Count;
        double t1 = (centres[0] + centres[1]) / 2, t2 = (centres[1] + centres[2]) / 2;
        double lgm = Math.Log(Math.Max(centres[1], 1e-3)), lwm = Math.Log(Math.Max(centres[2], 1e-3));
        double hx = Math.Max(1, shape.X - 1) / 2.0, hy = Math.Max(1, shape.Y - 1) / 2.0, hz = Math.Max(1, shape.Z - 1) / 2.0;
        int chunks = Math.Max(1, Parallelism.Degree);
        var partA = new double[chunks][];
        var partB = new double[chunks][];
        int step = Math.Max(1, stride);
        Parallelism.For(0, chunks, ch =>
        {
            var ata = new double[m * m];
            var atb = new double[m];
            var phi = new double[m];
            for (long kk = ch; kk * step < idx.Length; kk += chunks)
            {
                int k = (int)(kk * step);
                if (y[k] <= t1) continue;
                double target = Math.Log(raw[k]) - (y[k] <= t2 ? lgm : lwm);
                int v = idx[k];
                int x = v % shape.X, r = v / shape.X, yy = r % shape.Y, z = r / shape.Y;
                Basis(terms, (x - hx) / hx, (yy - hy) / hy, (z - hz) / hz, phi);
                for (int i = 0; i < m; i++)
                {
                    double pi = phi[i];
                    atb[i] += pi * target;
                    for (int j = i; j < m; j++) ata[i * m + j] += pi * phi[j];
                }
            }
            partA[ch] = ata; partB[ch] = atb;
        });
        var A = Matrix<double>.Build.Dense(m, m);
        var b = Vector<double>.Build.Dense(m);
        for (int ch = 0; ch < chunks; ch++)
            for (int i = 0; i < m; i++)
            {
                b[i] += partB[ch][i];
                for (int j = i; j < m; j++) { A[i, j] += partA[ch][i * m + j]; if (j != i) A[j, i] += partA[ch][i * m + j]; }
            }
        for (int i = 0; i < m; i++) A[i, i] += 1e-6 * (A[i, i] + 1);
        var coef = A.Solve(b).ToArray();
        Parallelism.For(0, idx.Length, () => new double[m], (k, _, buf) =>
        {
            int v = idx[k];
            int x = v % shape.X, r = v / shape.X, yy = r % shape.Y, z = r / shape.Y;
            Basis(terms, (x - hx) / hx, (yy - hy) / hy, (z - hz) / hz, buf);
            double s = 0;
            for (int i = 0; i < m; i++) s += coef[i] * buf[i];
            logBias[k] = s;
            return buf;
        }, _ => { });
        double mean = 0;
        for (int k = 0; k < idx.Length; k++) mean += logBias[k];
        mean /= idx.Length;
        for (int k = 0; k < idx.Length; k++) logBias[k] -= mean;
    }

    private static void Basis(List<(int a, int b, int c)> terms, double x, double y, double z, double[] phi)
    {
        for (int i = 0; i < terms.Count; i++)
        {
            var (a, b, c) = terms[i];
            phi[i] = Pow(x, a) * Pow(y, b) * Pow(z, c);
        }
    }

    private static double Pow(double v, int p) => p switch { 0 => 1, 1 => v, 2 => v * v, 3 => v * v * v, _ => Math.Pow(v, p) };
}
