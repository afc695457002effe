using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Processing.Filtering;

namespace BatchCohort.Imaging.Tests.Processing;

/// <summary>Filter cases compared with scipy.ndimage (max abs diff ≤ 1e-4 × input range).</summary>
public static class FilterCases
{
    private static readonly (BoundaryMode Mode, string Scipy)[] Modes =
    {
        (BoundaryMode.Reflect, "reflect"), (BoundaryMode.Constant, "constant"), (BoundaryMode.Nearest, "nearest"),
        (BoundaryMode.Mirror, "mirror"), (BoundaryMode.Wrap, "wrap"),
    };

    /// <summary>A 3×2×5 kernel with mixed signs and an exact zero (even length along y exercises scipy's origin shift).</summary>
    public static readonly double[,,] K325 = MakeKernel(3, 2, 5, seed: 11);

    /// <summary>A 3×3×3 kernel (all non-zero).</summary>
    public static readonly double[,,] K333 = MakeKernel(3, 3, 3, seed: 12);

    private static double[,,] MakeKernel(int nx, int ny, int nz, int seed)
    {
        var rng = new Random(seed);
        var k = new double[nx, ny, nz];
        for (int i = 0; i < nx; i++) for (int j = 0; j < ny; j++) for (int l = 0; l < nz; l++) k[i, j, l] = Math.Round(rng.NextDouble() * 2 - 0.7, 3);
        k[0, 0, 0] = 0;
        return k;
    }

    private static (string, double[], int[]) Flat(string name, double[,,] k)
    {
        int nx = k.GetLength(0), ny = k.GetLength(1), nz = k.GetLength(2);
        var d = new double[nx * ny * nz];
        for (int l = 0; l < nz; l++) for (int j = 0; j < ny; j++) for (int i = 0; i < nx; i++) d[i + nx * (j + ny * l)] = k[i, j, l];
        return (name, d, new[] { nx, ny, nz });
    }

    /// <summary>Extra arrays the oracle reads (kernels), written x-fastest.</summary>
    public static IEnumerable<(string Name, double[] Data, int[] Shape)> Arrays => new[] { Flat("k325", K325), Flat("k333", K333) };

    private static Dictionary<string, string> W(string name) => new() { ["weights"] = name };

    public static IEnumerable<ProcessingCase> All
    {
        get
        {
            foreach (var (m, s) in Modes)
            {
                yield return new($"uniform_syn_{s}", "uniform", "syn", new { size = new[] { 3, 4, 5 }, mode = s, cval = 99.0 },
                    i => ProcessingOracle.D(Filters.UniformFilter(i["syn"], new Size3(3, 4, 5), mode: m, cval: 99.0)));
                yield return new($"median_syn_{s}", "median", "syn", new { size = 3, mode = s, cval = 500.0 },
                    i => ProcessingOracle.D(Filters.MedianFilter(i["syn"], 3, mode: m, cval: 500.0)), Compare.Exact);
                yield return new($"median_tiny_{s}", "median", "tiny", new { size = new[] { 3, 5, 3 }, mode = s, cval = 1.0 },
                    i => ProcessingOracle.D(Filters.MedianFilter(i["tiny"], new Size3(3, 5, 3), mode: m, cval: 1.0)), Compare.Exact);
                for (int axis = 0; axis < 3; axis++)
                {
                    int ax = axis;
                    yield return new($"sobel{ax}_syn_{s}", "sobel", "syn", new { axis = ax, mode = s, cval = 300.0 },
                        i => ProcessingOracle.D(Filters.Sobel(i["syn"], ax, mode: m, cval: 300.0)));
                }
                yield return new($"gradmag_syn_{s}", "gradmag", "syn", new { mode = s, cval = 40.0 },
                    i => ProcessingOracle.D(Filters.GradientMagnitude(i["syn"], mode: m, cval: 40.0)));
                yield return new($"ggm_syn_{s}", "ggm", "syn", new { sigma = new[] { 1.0, 1.5, 0.8 }, mode = s, cval = 40.0 },
                    i => ProcessingOracle.D(Filters.GaussianGradientMagnitude(i["syn"], new Vec3(1.0, 1.5, 0.8), mode: m, cval: 40.0)));
                yield return new($"laplace_syn_{s}", "laplace", "syn", new { mode = s, cval = 250.0 },
                    i => ProcessingOracle.D(Filters.Laplace(i["syn"], mode: m, cval: 250.0)));
                yield return new($"log_syn_{s}", "log", "syn", new { sigma = 1.3, mode = s, cval = 250.0 },
                    i => ProcessingOracle.D(Filters.GaussianLaplace(i["syn"], 1.3, mode: m, cval: 250.0)));
                yield return new($"convolve_syn_{s}", "convolve", "syn", new { mode = s, cval = 33.0, origin = new[] { 1, 0, 2 } },
                    i => ProcessingOracle.D(Filters.Convolve(i["syn"], K325, mode: m, cval: 33.0, origin: new Offset3(1, 0, 2))), Arrays: W("k325"));
                yield return new($"correlate_syn_{s}", "correlate", "syn", new { mode = s, cval = 33.0, origin = new[] { 1, -1, -2 } },
                    i => ProcessingOracle.D(Filters.Correlate(i["syn"], K325, mode: m, cval: 33.0, origin: new Offset3(1, -1, -2))), Arrays: W("k325"));
                yield return new($"convolve_tiny_{s}", "convolve", "tiny", new { mode = s, cval = 2.0 },
                    i => ProcessingOracle.D(Filters.Convolve(i["tiny"], K333, mode: m, cval: 2.0)), Arrays: W("k333"));
                yield return new($"gauss_syn_{s}", "gaussian", "syn", new { sigma = new[] { 1.5, 0.7, 2.2 }, mode = s, cval = 123.5 },
                    i => ProcessingOracle.D(Filters.GaussianFilter(i["syn"], new Vec3(1.5, 0.7, 2.2), mode: m, cval: 123.5)));
                // kernel radius (truncate·σ ≈ 12) longer than the rows: the extension repeats periodically
                yield return new($"gauss_tiny_{s}", "gaussian", "tiny", new { sigma = 3.0, mode = s, cval = -7.0 },
                    i => ProcessingOracle.D(Filters.GaussianFilter(i["tiny"], 3.0, mode: m, cval: -7.0)));
                yield return new($"gauss_d1_syn_{s}", "gaussian", "syn", new { sigma = 1.2, order = new[] { 0, 1, 0 }, mode = s, cval = 10.0 },
                    i => ProcessingOracle.D(Filters.GaussianFilter(i["syn"], 1.2, order: new Order3(0, 1, 0), mode: m, cval: 10.0)));
            }
            foreach (var (m, s) in Modes)
                yield return new($"gauss2d_span_{s}", "gaussian", "syn2d", new { sigma = new[] { 1.7, 0.9, 0.0 }, mode = s, cval = 5.0 },
                    i =>
                    {
                        var img = i["syn2d"];
                        var outp = new float[img.Data.Length];
                        Filters.GaussianFilter2D(img.Data, outp, 29, 19, 1.7, 0.9, m, 5.0);
                        return Array.ConvertAll(outp, f => (double)f);
                    });
            yield return new("median2d_syn", "median", "syn2d", new { size = new[] { 3, 3, 1 } },
                i => ProcessingOracle.D(Filters.MedianFilter(i["syn2d"], new Size3(3, 3, 1))), Compare.Exact);
            yield return new("gauss_d2_syn", "gaussian", "syn", new { sigma = 1.0, order = new[] { 2, 0, 1 } },
                i => ProcessingOracle.D(Filters.GaussianFilter(i["syn"], 1.0, order: new Order3(2, 0, 1))));
            yield return new("gauss_trunc_syn", "gaussian", "syn", new { sigma = 2.0, truncate = 2.3 },
                i => ProcessingOracle.D(Filters.GaussianFilter(i["syn"], 2.0, truncate: 2.3)));
            yield return new("gauss_zero_axis_syn", "gaussian", "syn", new { sigma = new[] { 0.0, 1.0, 0.0 } },
                i => ProcessingOracle.D(Filters.GaussianFilter(i["syn"], new Vec3(0, 1, 0))));
            // 2 mm on a 0.9×1.3×2.1 mm grid: σ in voxels = 2/0.9, 2/1.3, 2/2.1
            yield return new("gauss_mm_syn", "gaussian", "syn", new { sigma = new[] { 2 / 0.9, 2 / 1.3, 2 / 2.1 } },
                i => ProcessingOracle.D(Filters.GaussianFilter(i["syn"], 2.0, unit: LengthUnit.Millimetres)));
            yield return new("median_syn_even", "median", "syn", new { size = new[] { 2, 4, 1 }, origin = new[] { 0, 1, 0 } },
                i => ProcessingOracle.D(Filters.MedianFilter(i["syn"], new Size3(2, 4, 1), origin: new Offset3(0, 1, 0))), Compare.Exact);
            yield return new("median_syn_555", "median", "syn", new { size = 5, mode = "nearest" },
                i => ProcessingOracle.D(Filters.MedianFilter(i["syn"], 5, mode: BoundaryMode.Nearest)), Compare.Exact);
            yield return new("median_syn_737", "median", "syn", new { size = new[] { 7, 3, 7 } },   // 147 voxels: quickselect path
                i => ProcessingOracle.D(Filters.MedianFilter(i["syn"], new Size3(7, 3, 7))), Compare.Exact);
            yield return new("median_synint", "median", "synint", new { size = 3 },                // many ties
                i => ProcessingOracle.D(Filters.MedianFilter(i["synint"], 3)), Compare.Exact);
            yield return new("uniform_syn_origin", "uniform", "syn", new { size = 3, origin = new[] { -1, 1, 0 } },
                i => ProcessingOracle.D(Filters.UniformFilter(i["syn"], 3, origin: new Offset3(-1, 1, 0))));
            yield return new("ggm_mm_syn", "ggm", "syn", new { sigma = new[] { 1.5 / 0.9, 1.5 / 1.3, 1.5 / 2.1 } },
                i => ProcessingOracle.D(Filters.GaussianGradientMagnitude(i["syn"], 1.5, unit: LengthUnit.Millimetres)));
            yield return new("median_ch2crop", "median", "ch2crop", new { size = 3 },
                i => ProcessingOracle.D(Filters.MedianFilter(i["ch2crop"], 3)), Compare.Exact);
            yield return new("median_ch2crop_5", "median", "ch2crop", new { size = new[] { 5, 5, 3 }, mode = "mirror" },
                i => ProcessingOracle.D(Filters.MedianFilter(i["ch2crop"], new Size3(5, 5, 3), mode: BoundaryMode.Mirror)), Compare.Exact);
            yield return new("log_ch2", "log", "ch2", new { sigma = 2.0 },
                i => ProcessingOracle.D(Filters.GaussianLaplace(i["ch2"], 2.0)));
            yield return new("gauss_ch2", "gaussian", "ch2", new { sigma = 1.0 },
                i => ProcessingOracle.D(Filters.GaussianFilter(i["ch2"], 1.0)));
            yield return new("gauss_ch2_s3_nearest", "gaussian", "ch2", new { sigma = 3.0, mode = "nearest" },
                i => ProcessingOracle.D(Filters.GaussianFilter(i["ch2"], 3.0, mode: BoundaryMode.Nearest)));
        }
    }
}
