// ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
// "processing": scipy.ndimage / scikit-image equivalents in C# against the real thing, same inputs, same run.
//
//   dotnet run -c Release --project bench/BatchCohort.Benchmarks -- processing [filter] [--reps N] [--no-python]
//
// HOW TO ADD AN OPERATION (one line in each of two places):
//   1. Here, in Cases(): new BenchCase("family", "name", v => <C# call on Volume v>), where "name" is ALSO
//   2. a key of SNIPPETS in bench/BatchCohort.Benchmarks/processing_bench.py: "name": lambda a: <python call on a>.
//   Every case runs on both inputs: "ch2" (Colin27, 181×217×181, loaded by nibabel) and "vol256" (256×256×128 synthetic
//   head-like float32 volume made by the python script), exchanged as .npy (x-fastest = Fortran order, a[x, y, z]).
//   Optional: a case's Setup(Volume) runs once before timing (e.g. to make a binary mask or an output buffer) and its
//   result is what the C# delegate receives; the python side has the same hook (SETUPS in the script).
//
// Timing: best of N runs (default 3) after one warm-up, for both sides (one run when the warm-up took over 3 s). Memory: C# = bytes allocated during one call
// (GC.GetTotalAllocatedBytes, all threads), python = tracemalloc peak of the warm-up call (numpy reports to tracemalloc);
// the process's peak working set is printed at the end. Ratio = scipy time / C# time (>1: C# faster).
// ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Imaging.Processing.Similarity;
using BatchCohort.Imaging.Processing.Distance;
using BatchCohort.Imaging.Processing.Labels;
using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;
using BatchCohort.Imaging.Processing.Exposure;
using BatchCohort.Imaging.Processing.Filtering;
using BatchCohort.Imaging.Processing.Thresholding;

namespace BatchCohort.Benchmarks;

/// <summary>One benchmarked operation: C# delegate on the input volume and the python snippet key of the same name.</summary>
public sealed record BenchCase(string Family, string Name, Func<object, object?> Run, Func<Volume, object>? Setup = null)
{
    public BenchCase(string family, string name, Func<Volume, object?> run) : this(family, name, o => run((Volume)o)) { }
}

public sealed class ProcessingBenchmark : IBenchmark
{
    public string Name => "processing";
    public string Description => "filters/intensity/thresholds (+morphology, geometry) vs scipy.ndimage/skimage on ch2 and 256×256×128";

    /// <summary>The table of operations. Keep names identical to SNIPPETS in processing_bench.py.</summary>
    public static IEnumerable<BenchCase> Cases()
    {
        // ── filters (scipy.ndimage) ──
        yield return new("filters", "gaussian_s1", v => Filters.GaussianFilter(v, 1.0));
        yield return new("filters", "gaussian_s3", v => Filters.GaussianFilter(v, 3.0));
        yield return new("filters", "median_3", v => Filters.MedianFilter(v, 3));
        yield return new("filters", "median_5", v => Filters.MedianFilter(v, 5));
        yield return new("filters", "uniform_5", v => Filters.UniformFilter(v, 5));
        yield return new("filters", "sobel_x", v => Filters.Sobel(v, 0));
        yield return new("filters", "sobel_z", v => Filters.Sobel(v, 2));
        yield return new("filters", "gradient_magnitude", v => Filters.GradientMagnitude(v));
        yield return new("filters", "gaussian_gradient_magnitude", v => Filters.GaussianGradientMagnitude(v, 1.0));
        yield return new("filters", "laplace", v => Filters.Laplace(v));
        yield return new("filters", "gaussian_laplace", v => Filters.GaussianLaplace(v, 1.0));
        yield return new("filters", "convolve_3x3x3", v => Filters.Convolve(v, Kernel333));
        // ── intensity (scipy.ndimage.histogram, skimage.exposure, numpy.percentile) ──
        yield return new("intensity", "histogram", v => Intensity.Histogram(v, 0, 1000, 256));
        yield return new BenchCase("intensity", "histogram_labels",
            o => { var (v, l) = ((Volume, LabelMap))o; return Intensity.Histogram(v, 0, 1000, 256, l, new[] { 1, 2, 3 }); },
            v => (v, ThirdsAlongX(v)));
        yield return new("intensity", "exposure_histogram", v => Intensity.ExposureHistogram(v));
        yield return new("intensity", "cumulative_distribution", v => Intensity.CumulativeDistribution(v));
        yield return new("intensity", "equalize_hist", v => Intensity.EqualizeHist(v));
        yield return new("intensity", "rescale_intensity", v => Intensity.RescaleIntensity(v));
        yield return new("intensity", "rescale_percentiles", v => Intensity.RescaleIntensity(v, IntensityRange.Percentiles(2, 98), IntensityRange.Of(0, 1)));
        yield return new("intensity", "percentile", v => Intensity.Percentile(v, 2, 50, 98));
        // ── thresholds (skimage.filters; iterative_mean against the same loop in numpy) ──
        yield return new("thresholds", "otsu", v => Thresholds.Otsu(v));
        yield return new("thresholds", "triangle", v => Thresholds.Triangle(v));
        yield return new("thresholds", "isodata", v => Thresholds.Isodata(v));
        yield return new("thresholds", "iterative_mean", v => Thresholds.IterativeMean(v));
        yield return new("thresholds", "threshold_local", v => Thresholds.Local(v, 15));
        yield return new("thresholds", "threshold_local_ndi", v => Thresholds.Local(v, 15));
        // ── geometry (scipy.ndimage interpolation; order 3 = cubic B-spline with prefilter, mode 'constant') ──
        yield return new("geometry", "affine_o1", v => GeometryAffine(v, 1));
        yield return new("geometry", "affine_o3", v => GeometryAffine(v, 3));
        yield return new("geometry", "shift_o3", v => Interpolation.Shift(v, 2.3, -1.7, 0.6, 3));
        yield return new("geometry", "zoom_05_o3", v => Interpolation.Zoom(v, 0.5, 0.5, 0.5, 3));
        yield return new("geometry", "rotate_15_o3", v => Interpolation.Rotate(v, 15, 1, 0, 3));
        yield return new("geometry", "spline_filter", v => SplineFilter.Apply(v.Data, v.Shape, 3, BoundaryMode.Mirror));
        // ── similarity (numpy / skimage.metrics) of the input against a copy shifted by (1.5, −2, 1) voxels ──
        yield return new("similarity", "mse", o => ImageSimilarity.MeanSquaredError(A(o), B(o)), ShiftedPair);
        yield return new("similarity", "ncc", o => ImageSimilarity.NormalizedCrossCorrelation(A(o), B(o)), ShiftedPair);
        yield return new("similarity", "mi_32", o => ImageSimilarity.MutualInformation(A(o), B(o), 32), ShiftedPair);
        yield return new("similarity", "nmi_100", o => ImageSimilarity.NormalizedMutualInformation(A(o), B(o), 100), ShiftedPair);
        yield return new("similarity", "dice", o => Overlap.Dice(MaskA(o), MaskB(o)), ShiftedMasks);
        foreach (var c in MorphologyCases()) yield return c;
    }

    /// <summary>Labels 1, 2, 3 for the thirds of the volume along x (THIRDS in the python script).</summary>
    private static LabelMap ThirdsAlongX(Volume v)
    {
        var s = v.Shape;
        var d = new int[s.Count];
        for (int i = 0; i < d.Length; i++) d[i] = 1 + 3 * (i % s.X) / s.X;
        return new LabelMap(s, d, v.Affine, v.Spacing);
    }

    // ── morphology, labels, measurements, distance (scipy.ndimage) on the mask volume > 80 (same on both sides) ──
    private const double MorphThreshold = 80;
    private static readonly StructuringElement N6 = StructuringElement.Neighbourhood6, N26 = StructuringElement.Neighbourhood26;
    private static readonly StructuringElement Ball3 = StructuringElement.Ball(3, Spacing3.Isotropic(1));
    private static readonly StructuringElement Ball5 = StructuringElement.Ball(5, Spacing3.Isotropic(1));

    private static object MaskOf(Volume v) => Mask.GreaterThan(v, MorphThreshold);

    private static object LabelledOf(Volume v)
    {
        var labels = Labeling.Label(Mask.GreaterThan(v, MorphThreshold));
        var index = Enumerable.Range(1, labels.Count).ToArray();
        return (v, labels, index);
    }

    private static IEnumerable<BenchCase> MorphologyCases()
    {
        yield return new("morphology", "mask_gt", v => Mask.GreaterThan(v, MorphThreshold));
        yield return new("morphology", "mask_gt_into", o =>
        {
            var (v, into) = ((Volume, Mask))o;
            Mask.GreaterThan(v, MorphThreshold, into);
            return into;
        }, v => (v, Mask.ZerosLike(v)));
        yield return new("morphology", "erosion_n6", o => BinaryMorphology.BinaryErosion((Mask)o, N6), MaskOf);
        yield return new("morphology", "dilation_n6", o => BinaryMorphology.BinaryDilation((Mask)o, N6), MaskOf);
        yield return new("morphology", "erosion_n26", o => BinaryMorphology.BinaryErosion((Mask)o, N26), MaskOf);
        yield return new("morphology", "dilation_n26", o => BinaryMorphology.BinaryDilation((Mask)o, N26), MaskOf);
        yield return new("morphology", "opening_n6_it2", o => BinaryMorphology.BinaryOpening((Mask)o, N6, iterations: 2), MaskOf);
        yield return new("morphology", "closing_n26", o => BinaryMorphology.BinaryClosing((Mask)o, N26), MaskOf);
        yield return new("morphology", "erosion_ball3", o => BinaryMorphology.BinaryErosion((Mask)o, Ball3), MaskOf);
        yield return new("morphology", "dilation_ball3", o => BinaryMorphology.BinaryDilation((Mask)o, Ball3), MaskOf);
        yield return new("morphology", "opening_ball3", o => BinaryMorphology.BinaryOpening((Mask)o, Ball3), MaskOf);
        yield return new("morphology", "closing_ball3", o => BinaryMorphology.BinaryClosing((Mask)o, Ball3), MaskOf);
        yield return new("morphology", "dilation_ball5", o => BinaryMorphology.BinaryDilation((Mask)o, Ball5), MaskOf);
        yield return new("morphology", "fill_holes", o => BinaryMorphology.BinaryFillHoles((Mask)o), MaskOf);
        yield return new("morphology", "fill_holes_axial", o => BinaryMorphology.BinaryFillHolesSlicewise((Mask)o, 2), MaskOf);
        yield return new("labels", "label_n6", o => Labeling.Label((Mask)o), MaskOf);
        yield return new("labels", "label_n26", o => Labeling.Label((Mask)o, 26), MaskOf);
        yield return new("labels", "largest_n6", o => Labeling.LargestComponent((Mask)o), MaskOf);
        yield return new("labels", "volume_ml", o => Measurements.VolumeMl((Mask)o), MaskOf);
        yield return new("labels", "find_objects", o => Labeling.FindObjects((((Volume, LabelMap, int[]))o).Item2), LabelledOf);
        yield return new("labels", "stats_per_label", o =>
        {
            var (v, l, idx) = ((Volume, LabelMap, int[]))o;
            return Measurements.Statistics(v, l, idx); // sum, mean, variance, minimum, maximum together
        }, LabelledOf);
        yield return new("labels", "center_of_mass", o =>
        {
            var (v, l, idx) = ((Volume, LabelMap, int[]))o;
            return Measurements.CenterOfMass(v, l, idx);
        }, LabelledOf);
        yield return new("distance", "edt", o => DistanceTransforms.DistanceTransformEdt((Mask)o), MaskOf);
        yield return new("distance", "edt_aniso", o => DistanceTransforms.DistanceTransformEdt((Mask)o, new Spacing3(0.9, 1.1, 1.3)), MaskOf);
    }

    // geometry: rotation R_z(0.05)·R_y(−0.1)·R_x(0.15) × 1.05 about the array centre, + 1.3 voxels (same in processing_bench.py)
    private static object GeometryAffine(Volume v, int order)
    {
        double cx = Math.Cos(0.15), sx = Math.Sin(0.15), cy = Math.Cos(-0.1), sy = Math.Sin(-0.1), cz = Math.Cos(0.05), sz = Math.Sin(0.05);
        var m = new[,]
        {
            { cz * cy * 1.05, (cz * sy * sx - sz * cx) * 1.05, (cz * sy * cx + sz * sx) * 1.05 },
            { sz * cy * 1.05, (sz * sy * sx + cz * cx) * 1.05, (sz * sy * cx - cz * sx) * 1.05 },
            { -sy * 1.05, cy * sx * 1.05, cy * cx * 1.05 },
        };
        var c = new[] { (v.Shape.X - 1) / 2.0, (v.Shape.Y - 1) / 2.0, (v.Shape.Z - 1) / 2.0 };
        var off = new double[3];
        for (int i = 0; i < 3; i++) off[i] = c[i] - (m[i, 0] * c[0] + m[i, 1] * c[1] + m[i, 2] * c[2]) + 1.3;
        return Interpolation.AffineTransform(v.Data, v.Shape, m, off, null, order);
    }

    private static object ShiftedPair(Volume v) => (v.Data, Interpolation.Shift(v.Data, v.Shape, 1.5, -2, 1, order: 1));
    private static float[] A(object o) => (((float[], float[]))o).Item1;
    private static float[] B(object o) => (((float[], float[]))o).Item2;
    private static object ShiftedMasks(Volume v)
    {
        var (a, b) = ((float[], float[]))ShiftedPair(v);
        float t = 0.3f * a.Max();
        return (a.Select(x => (byte)(x > t ? 1 : 0)).ToArray(), b.Select(x => (byte)(x > t ? 1 : 0)).ToArray());
    }
    private static byte[] MaskA(object o) => (((byte[], byte[]))o).Item1;
    private static byte[] MaskB(object o) => (((byte[], byte[]))o).Item2;

    /// <summary>The 3×3×3 kernel of "convolve_3x3x3" (same values as KERNEL333 in the python script).</summary>
    private static readonly double[,,] Kernel333 = MakeKernel333();

    private static double[,,] MakeKernel333()
    {
        var k = new double[3, 3, 3];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) for (int l = 0; l < 3; l++) k[i, j, l] = 1 + i + 2 * j + 3 * l;
        return k;
    }

    public int Run(string[] args)
    {
        string? filter = null;
        int reps = 3;
        bool python = true;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--reps" && i + 1 < args.Length) reps = int.Parse(args[++i], CultureInfo.InvariantCulture);
            else if (args[i] == "--no-python") python = false;
            else filter = args[i];
        }
        var cases = Cases().Where(c => filter is null || c.Name.Contains(filter, StringComparison.Ordinal) || c.Family == filter).ToList();
        if (cases.Count == 0) { Console.Error.WriteLine($"no case matches '{filter}'"); return 2; }
        string script = Path.Combine(Repo.Root, "bench", "BatchCohort.Benchmarks", "processing_bench.py");
        using var dir = new TempDir("procbench");

        Console.WriteLine($"processing benchmark: {cases.Count} operations × 2 inputs, best of {reps}, {Environment.ProcessorCount} cores");
        ExternalTool.Check(Requirements.Python, new[] { script, "prepare", dir.FullName }, TimeSpan.FromMinutes(5));
        var inputs = new[] { "ch2", "vol256" }.ToDictionary(n => n, n => LoadNpy(dir[n + ".npy"]));

        Dictionary<string, JsonElement> py = new();
        if (python)
        {
            var pargs = new List<string> { script, "time", dir.FullName, reps.ToString(CultureInfo.InvariantCulture) };
            pargs.AddRange(cases.Select(c => c.Name));
            var json = ExternalTool.Check(Requirements.Python, pargs, TimeSpan.FromMinutes(30));
            foreach (var e in JsonDocument.Parse(json).RootElement.EnumerateArray())
                py[e.GetProperty("input").GetString() + "/" + e.GetProperty("name").GetString()] = e;
        }

        Console.WriteLine();
        Console.WriteLine($"{"operation",-22} {"input",-7} {"C# ms",9} {"scipy ms",9} {"ratio",7}  {"C# alloc MB",11} {"py peak MB",10}");
        var ratios = new List<double>();
        foreach (var c in cases)
        foreach (var (inName, vol) in inputs)
        {
            object arg = c.Setup is null ? vol : c.Setup(vol);
            var warm = Stopwatch.StartNew();
            c.Run(arg); // warm-up (JIT, pools)
            double best = double.MaxValue;
            long alloc = long.MaxValue;
            for (int r = 0; r < (warm.Elapsed.TotalSeconds < 3 ? reps : 1); r++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                long a0 = GC.GetTotalAllocatedBytes(true);
                var sw = Stopwatch.StartNew();
                c.Run(arg);
                sw.Stop();
                alloc = Math.Min(alloc, GC.GetTotalAllocatedBytes(true) - a0);
                best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
            }
            string pyMs = "-", ratio = "-", pyMb = "-";
            if (py.TryGetValue(inName + "/" + c.Name, out var e))
            {
                double pms = e.GetProperty("seconds").GetDouble() * 1000;
                double rr = pms / best;
                ratios.Add(rr);
                BenchResults.Ratio(c.Name, inName, best, c.Name.EndsWith("_ndi", StringComparison.Ordinal) ? "scipy.ndimage" : "scipy/skimage", pms, TargetOf(c));
                pyMs = pms.ToString("F1", CultureInfo.InvariantCulture);
                ratio = rr.ToString("F2", CultureInfo.InvariantCulture) + "×";
                pyMb = (e.GetProperty("peak_bytes").GetDouble() / 1048576).ToString("F1", CultureInfo.InvariantCulture);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.Name,-22} {inName,-7} {best,9:F1} {pyMs,9} {ratio,7}  {alloc / 1048576.0,11:F1} {pyMb,10}"));
        }
        Console.WriteLine();
        using var proc = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"input sizes: ch2 {inputs["ch2"].Data.Length * 4 / 1048576.0:F1} MB, vol256 {inputs["vol256"].Data.Length * 4 / 1048576.0:F1} MB (float32); C# process peak working set {proc.PeakWorkingSet64 / 1048576.0:F0} MB"));
        if (ratios.Count > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratio scipy/C#: min {ratios.Min():F2}×, geometric mean {Math.Exp(ratios.Average(Math.Log)):F2}×, below 2×: {ratios.Count(r => r < 2)} of {ratios.Count}"));
        return 0;
    }

    /// <summary>The speed each operation is held to: ≥ 5× for morphology with balls of radius ≥ 3 mm and for the
    /// distance transform (the processing issue's targets), ≥ 2× for the rest.</summary>
    private static double TargetOf(BenchCase c) =>
        c.Family == "distance" || (c.Family == "morphology" && c.Name.Contains("ball", StringComparison.Ordinal)) ? 5 : 2;

    private static Volume LoadNpy(string path)
    {
        var a = Npy.Read(path);
        if (a.Descr != "<f4" || !a.FortranOrder || a.Shape.Length != 3) throw new InvalidDataException($"{path}: expected a Fortran-order float32 3-D array, got {a.Descr} {string.Join('×', a.Shape)}");
        var data = new float[a.Bytes.Length / 4];
        Buffer.BlockCopy(a.Bytes, 0, data, 0, a.Bytes.Length);
        return new Volume(new Shape3(a.Shape[0], a.Shape[1], a.Shape[2]), data, Affine.FromSpacing(1, 1, 1), new Spacing3(1, 1, 1));
    }
}
