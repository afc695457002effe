using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Filtering;

/// <summary>
/// Linear and rank filters on 3-D volumes with scipy.ndimage's names and semantics (see README, "Processing").
/// Every filter takes an optional <c>output</c> volume of the same shape: pass one to reuse its voxel array in hot
/// loops (no volume-sized allocation); otherwise a new volume is returned. Inputs must be free of NaN/±Inf.
/// </summary>
public static partial class Filters
{
    /// <summary>
    /// scipy.ndimage.gaussian_filter: separable Gaussian with per-axis sigma (voxels by default, or millimetres
    /// with <paramref name="unit"/> = Millimetres using the volume's spacing), kernel radius int(truncate·σ + 0.5),
    /// optional derivative order per axis. An axis with σ = 0 is left untouched (as scipy does).
    /// </summary>
    public static Volume GaussianFilter(Volume input, Vec3 sigma, Order3 order = default, BoundaryMode mode = BoundaryMode.Reflect,
        double cval = 0.0, double truncate = 4.0, LengthUnit unit = LengthUnit.Voxels, Volume? output = null)
    {
        Checks.Volume(input, nameof(input));
        Checks.Sigma(sigma, nameof(sigma));
        Checks.Truncate(truncate, nameof(truncate));
        Checks.FiniteScalar(cval, nameof(cval));
        Boundary.Validate(mode, nameof(mode));
        var sv = unit == LengthUnit.Millimetres ? sigma.MmToVoxels(input.Spacing) : sigma;
        var k = new Kernel1D?[3];
        for (int a = 0; a < 3; a++)
        {
            if (order[a] is < 0 or > 3) throw new ArgumentException($"derivative order must be 0..3, got {order[a]} along axis {a}", nameof(order));
            k[a] = GaussianKernel(sv[a], order[a], truncate, nameof(sigma));
        }
        var outV = Checks.Output(input, output, nameof(output));
        Checks.Finite(input, nameof(input));
        Separable.Correlate(input.Data, outV.Data, input.Shape, k[0], k[1], k[2], mode, (float)cval);
        return outV;
    }

    /// <summary>
    /// The correlation kernel scipy.ndimage.gaussian_filter1d uses (computed in double, reversed, then stored as
    /// float): φ(x) = exp(−x²/2σ²)/Σφ on x = −r..r, times the order-th derivative polynomial. Null when σ is 0
    /// (scipy skips such axes; it needs σ &gt; 1e-15).
    /// </summary>
    internal static Kernel1D? GaussianKernel(double sigma, int order, double truncate, string paramName)
    {
        if (!(sigma > 1e-15)) return null;
        double lwd = truncate * sigma + 0.5;
        if (lwd > 1_000_000) throw new ArgumentException($"sigma·truncate = {sigma * truncate:g4} voxels gives an absurd kernel radius", paramName);
        int r = (int)lwd;
        int n = 2 * r + 1;
        var phi = new double[n];
        double s2 = sigma * sigma, sum = 0;
        for (int i = 0; i < n; i++) { double x = i - r; phi[i] = Math.Exp(-0.5 / s2 * x * x); sum += phi[i]; }
        for (int i = 0; i < n; i++) phi[i] /= sum;
        if (order > 0)
        {
            // q(x): polynomial with q' + q·p' iterated (p' = −x/σ²): the scipy recurrence, coefficients in ascending powers
            var q = new double[order + 1];
            q[0] = 1;
            for (int it = 0; it < order; it++)
            {
                var nq = new double[order + 1];
                for (int e = 1; e <= order; e++) nq[e - 1] += e * q[e];          // derivative
                for (int e = 0; e < order; e++) nq[e + 1] += -q[e] / s2;          // times −x/σ²
                q = nq;
            }
            for (int i = 0; i < n; i++)
            {
                double x = i - r, poly = 0, xp = 1;
                for (int e = 0; e <= order; e++) { poly += q[e] * xp; xp *= x; }
                phi[i] *= poly;
            }
        }
        var w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float)phi[n - 1 - i]; // reversed: correlate with the flipped kernel
        return new Kernel1D(w);
    }
}
