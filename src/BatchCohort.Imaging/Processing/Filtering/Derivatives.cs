using System.Numerics.Tensors;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Filtering;

public static partial class Filters
{
    /// <summary>
    /// scipy.ndimage.sobel(input, axis): correlation with [−1, 0, 1] along <paramref name="axis"/> (0 = x, 1 = y,
    /// 2 = z), then smoothing with [1, 2, 1] along the other axes in increasing order — scipy's order of passes.
    /// Not normalised (like scipy).
    /// </summary>
    public static Volume Sobel(Volume input, int axis, BoundaryMode mode = BoundaryMode.Reflect, double cval = 0.0, Volume? output = null)
    {
        Axis(axis, nameof(axis));
        var o = Begin(input, output, mode, cval);
        Separable.Correlate(input.Data, o.Data, input.Shape, SobelPasses(axis), mode, (float)cval);
        return o;
    }

    private static (int, Kernel1D?)[] SobelPasses(int axis)
    {
        var passes = new List<(int, Kernel1D?)> { (axis, new Kernel1D(new float[] { -1, 0, 1 })) };
        for (int a = 0; a < 3; a++) if (a != axis) passes.Add((a, new Kernel1D(new float[] { 1, 2, 1 })));
        return passes.ToArray();
    }

    /// <summary>
    /// scipy.ndimage.generic_gradient_magnitude(input, sobel): √(Σ_axes sobel(input, axis)²).
    /// Extra memory: one volume-sized temporary.
    /// </summary>
    public static Volume GradientMagnitude(Volume input, BoundaryMode mode = BoundaryMode.Reflect, double cval = 0.0, Volume? output = null)
    {
        var o = Begin(input, output, mode, cval);
        SumOfSquaresThenSqrt(input, o, a => SobelPasses(a), mode, (float)cval);
        return o;
    }

    /// <summary>
    /// scipy.ndimage.gaussian_gradient_magnitude: √(Σ_a (∂G/∂a ∗ input)²) with the Gaussian derivative along each
    /// axis (sigma per axis, voxels or mm, truncate as <see cref="GaussianFilter"/>). Extra memory: one volume.
    /// </summary>
    public static Volume GaussianGradientMagnitude(Volume input, Vec3 sigma, BoundaryMode mode = BoundaryMode.Reflect, double cval = 0.0,
        double truncate = 4.0, LengthUnit unit = LengthUnit.Voxels, Volume? output = null)
    {
        var passes = GaussianPassesPerDerivativeAxis(input, sigma, truncate, unit, order: 1);
        var o = Begin(input, output, mode, cval);
        SumOfSquaresThenSqrt(input, o, a => passes[a], mode, (float)cval);
        return o;
    }

    /// <summary>
    /// scipy.ndimage.laplace: Σ_axes correlation with [1, −2, 1] along the axis (one pass, no temporary).
    /// </summary>
    public static Volume Laplace(Volume input, BoundaryMode mode = BoundaryMode.Reflect, double cval = 0.0, Volume? output = null)
    {
        var o = Begin(input, output, mode, cval);
        var k = new Kernel1D(new float[] { 1, -2, 1 });
        var kernels = new Kernel1D?[3];
        for (int a = 0; a < 3; a++) kernels[a] = input.Shape[a] >= 1 ? k : null;
        Separable.AxisSum(input.Data, o.Data, input.Shape, kernels, mode, (float)cval);
        return o;
    }

    /// <summary>
    /// scipy.ndimage.gaussian_laplace (LoG): Σ_a gaussian_filter(input, σ, order = 2 along a). Extra memory: one volume.
    /// </summary>
    public static Volume GaussianLaplace(Volume input, Vec3 sigma, BoundaryMode mode = BoundaryMode.Reflect, double cval = 0.0,
        double truncate = 4.0, LengthUnit unit = LengthUnit.Voxels, Volume? output = null)
    {
        var passes = GaussianPassesPerDerivativeAxis(input, sigma, truncate, unit, order: 2);
        var o = Begin(input, output, mode, cval);
        Separable.Correlate(input.Data, o.Data, input.Shape, passes[0], mode, (float)cval);
        var tmp = GC.AllocateUninitializedArray<float>(o.Data.Length);
        for (int a = 1; a < 3; a++)
        {
            Separable.Correlate(input.Data, tmp, input.Shape, passes[a], mode, (float)cval);
            TensorPrimitives.Add(o.Data, tmp, o.Data);
        }
        return o;
    }

    /// <summary>For each axis a: the x, y, z Gaussian passes with derivative <paramref name="order"/> along a.</summary>
    private static (int, Kernel1D?)[][] GaussianPassesPerDerivativeAxis(Volume input, Vec3 sigma, double truncate, LengthUnit unit, int order)
    {
        Checks.Volume(input, nameof(input));
        Checks.Sigma(sigma, nameof(sigma));
        Checks.Truncate(truncate, nameof(truncate));
        var sv = unit == LengthUnit.Millimetres ? sigma.MmToVoxels(input.Spacing) : sigma;
        var smooth = new Kernel1D?[3];
        var deriv = new Kernel1D?[3];
        for (int a = 0; a < 3; a++)
        {
            smooth[a] = GaussianKernel(sv[a], 0, truncate, nameof(sigma));
            deriv[a] = GaussianKernel(sv[a], order, truncate, nameof(sigma));
        }
        var result = new (int, Kernel1D?)[3][];
        for (int d = 0; d < 3; d++)
            result[d] = new[] { (0, d == 0 ? deriv[0] : smooth[0]), (1, d == 1 ? deriv[1] : smooth[1]), (2, d == 2 ? deriv[2] : smooth[2]) };
        return result;
    }

    private static void SumOfSquaresThenSqrt(Volume input, Volume o, Func<int, (int, Kernel1D?)[]> passes, BoundaryMode mode, float cval)
    {
        Separable.Correlate(input.Data, o.Data, input.Shape, passes(0), mode, cval);
        TensorPrimitives.Multiply(o.Data, o.Data, o.Data);
        var tmp = GC.AllocateUninitializedArray<float>(o.Data.Length);
        for (int a = 1; a < 3; a++)
        {
            Separable.Correlate(input.Data, tmp, input.Shape, passes(a), mode, cval);
            TensorPrimitives.MultiplyAdd(tmp, tmp, o.Data, o.Data);
        }
        TensorPrimitives.Sqrt(o.Data, o.Data);
    }
}
