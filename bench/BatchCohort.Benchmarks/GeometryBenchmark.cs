using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Imaging.Processing.Similarity;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Benchmarks;

/// <summary>
/// Geometry (affine_transform, shift, zoom, rotate, spline_filter, world resampling) and similarity metrics on ch2
/// (181×217×181) and a 256×256×128 volume, against scipy.ndimage / numpy / skimage timed in the same run.
/// Prints best-of-N times, the ratio scipy/ours, and managed bytes allocated per call.
/// usage: geometry [repeats=3] [--only substring]
/// </summary>
public sealed class GeometryBenchmark : IBenchmark
{
    public string Name => "geometry";
    public string Description => "affine/shift/zoom/rotate/resample + MAE/MSE/NCC/MI/NMI/Mattes/Dice/IoU vs scipy/numpy/skimage";

    private sealed record Op(string Name, Dictionary<string, object> Spec, Func<object> Ours);

    public int Run(string[] args)
    {
        if (args.Contains("--large")) return Large();
        int repeats = args.Length > 0 && int.TryParse(args[0], out var r) ? r : 3;
        string? only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
        var root = FindRoot();
        using var dir = new BenchDir();
        var inputs = new List<(string Name, Volume V)>();
        const string ch2Path = "/usr/share/mricron/templates/ch2.nii.gz";
        if (File.Exists(ch2Path)) inputs.Add(("ch2", VolumeFile.ReadVolume(ch2Path)));
        else Console.WriteLine("ch2 not found (apt-get install mricron-data): only the 256×256×128 volume is measured");
        inputs.Add(("v256", Synthetic(new Shape3(256, 256, 128))));

        var ops = new List<Op>();
        foreach (var (name, v) in inputs)
        {
            var s = v.Shape;
            var file = name + ".npy";
            WriteNpy(Path.Combine(dir.Path, file), v.Data, s);
            // second image: the same volume shifted by (1.5, −2, 1) voxels (linear), for the similarity metrics
            var b = Interpolation.Shift(v.Data, s, 1.5, -2, 1, order: 1);
            var file2 = name + "_b.npy";
            WriteNpy(Path.Combine(dir.Path, file2), b, s);
            float thr = (float)(0.3 * v.Data.Max());
            var a3 = Rot(0.15, -0.1, 0.05, 1.05);
            var c = new[] { (s.X - 1) / 2.0, (s.Y - 1) / 2.0, (s.Z - 1) / 2.0 };
            var off = new double[3];
            for (int i = 0; i < 3; i++) off[i] = c[i] - (a3[i, 0] * c[0] + a3[i, 1] * c[1] + a3[i, 2] * c[2]) + 1.3;
            var flat = new[] { a3[0, 0], a3[0, 1], a3[0, 2], a3[1, 0], a3[1, 1], a3[1, 2], a3[2, 0], a3[2, 1], a3[2, 2] };
            foreach (var order in new[] { 0, 1, 3 })
            {
                int o = order;
                ops.Add(new($"{name} affine_transform o{o}", new() { ["op"] = "affine", ["input"] = file, ["matrix"] = flat, ["offset"] = off, ["order"] = o },
                    () => Interpolation.AffineTransform(v.Data, s, a3, off, null, o)));
            }
            foreach (var order in new[] { 1, 3 })
            {
                int o = order;
                ops.Add(new($"{name} shift o{o}", new() { ["op"] = "shift", ["input"] = file, ["shift"] = new[] { 2.3, -1.7, 0.6 }, ["order"] = o },
                    () => Interpolation.Shift(v.Data, s, 2.3, -1.7, 0.6, o)));
                ops.Add(new($"{name} zoom 0.5 o{o}", new() { ["op"] = "zoom", ["input"] = file, ["zoom"] = new[] { 0.5, 0.5, 0.5 }, ["order"] = o },
                    () => Interpolation.Zoom(v.Data, s, 0.5, 0.5, 0.5, out _, o)));
                ops.Add(new($"{name} zoom 1.3 o{o}", new() { ["op"] = "zoom", ["input"] = file, ["zoom"] = new[] { 1.3, 1.3, 1.3 }, ["order"] = o },
                    () => Interpolation.Zoom(v.Data, s, 1.3, 1.3, 1.3, out _, o)));
                ops.Add(new($"{name} rotate 15° o{o}", new() { ["op"] = "rotate", ["input"] = file, ["angle"] = 15.0, ["order"] = o },
                    () => Interpolation.Rotate(v.Data, s, 15, 1, 0, o)));
            }
            ops.Add(new($"{name} spline_filter o3", new() { ["op"] = "spline_filter", ["input"] = file },
                () => SplineFilter.Apply(v.Data, s, 3, BoundaryMode.Mirror)));
            // world resampling onto a 1.5 mm grid through a rigid+scale transform
            var tgtShape = new Shape3((int)(s.X / 1.5), (int)(s.Y / 1.5), (int)(s.Z / 1.5));
            var tgtAff = v.Affine * Affine.FromSpacing(1.5, 1.5, 1.5);
            var t = Affine.FromLinear(Rot(0.1, 0.05, -0.08, 1.02), 3, -2, 4);
            var map = Resample.IndexMap(v.Affine, tgtAff, t);
            ops.Add(new($"{name} resample→1.5mm o1", new() { ["op"] = "resample", ["input"] = file, ["index_map"] = map.ToArray(), ["output_shape"] = new[] { tgtShape.X, tgtShape.Y, tgtShape.Z }, ["order"] = 1 },
                () => Resample.ToGrid(v, tgtShape, tgtAff, t, 1)));
            var ma = v.Data.Select(x => (byte)(x > thr ? 1 : 0)).ToArray();
            var mb = b.Select(x => (byte)(x > thr ? 1 : 0)).ToArray();
            void Sim(string n, string op, Func<object> f) =>
                ops.Add(new($"{name} {n}", new() { ["op"] = op, ["input"] = file, ["input2"] = file2, ["threshold"] = thr }, f));
            Sim("MAE", "mae", () => ImageSimilarity.MeanAbsoluteError(v.Data, b));
            Sim("MSE (skimage)", "mse", () => ImageSimilarity.MeanSquaredError(v.Data, b));
            Sim("NCC (corrcoef)", "ncc", () => ImageSimilarity.NormalizedCrossCorrelation(v.Data, b));
            Sim("MI 32 bins", "mi", () => ImageSimilarity.MutualInformation(v.Data, b, 32));
            Sim("NMI 100 (skimage)", "nmi", () => ImageSimilarity.NormalizedMutualInformation(v.Data, b, 100));
            Sim("Mattes MI 50", "mattes", () => MattesMutualInformation.Compute(v.Data, b, 50));
            Sim("Dice", "dice", () => Overlap.Dice(ma, mb));
            Sim("IoU", "iou", () => Overlap.IntersectionOverUnion(ma, mb));
        }
        if (only is not null) ops = ops.Where(o => o.Name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToList();

        File.WriteAllText(Path.Combine(dir.Path, "ops.json"), JsonSerializer.Serialize(ops.Select(o => new Dictionary<string, object>(o.Spec) { ["name"] = o.Name })));
        Console.WriteLine($"scipy/numpy/skimage: timing {ops.Count} operations (best of {repeats}) ...");
        var script = Path.Combine(root, "bench", "BatchCohort.Benchmarks", "scripts", "geometry_scipy.py");
        var py = RunPython(script, dir.Path, repeats);
        var refTimes = JsonSerializer.Deserialize<Dictionary<string, double>>(py)!;

        Console.WriteLine($"{"operation",-34} {"ours ms",10} {"scipy ms",10} {"ratio",8} {"alloc MB",9}");
        int below = 0;
        foreach (var op in ops)
        {
            op.Ours(); // warm-up (JIT)
            double best = double.MaxValue;
            long alloc = 0;
            for (int i = 0; i < repeats; i++)
            {
                long before = GC.GetTotalAllocatedBytes(true);
                var sw = Stopwatch.StartNew();
                op.Ours();
                sw.Stop();
                alloc = GC.GetTotalAllocatedBytes(true) - before;
                best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
            }
            double theirs = refTimes[op.Name] * 1000;
            double ratio = theirs / best;
            if (ratio < 2) below++;
            int sp = op.Name.IndexOf(' ');
            BenchResults.Ratio(op.Name[(sp + 1)..], op.Name[..sp], best, "scipy.ndimage/skimage", theirs, 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{op.Name,-34} {best,10:F1} {theirs,10:F1} {ratio,7:F1}× {alloc / 1048576.0,9:F1}{(ratio < 2 ? "  < 2× target" : "")}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"peak working set: ours {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MB (whole process, inputs included); python {refTimes["_peak_rss_mb"]:F0} MB"));
        Console.WriteLine($"{ops.Count - below}/{ops.Count} operations at ≥2× scipy");
        return 0;
    }

    /// <summary>
    /// Memory check: each operation once on a 512×512×300 float32 volume (300 MB), printing time and the managed
    /// bytes it allocated as a multiple of the input's size (target ≤ 3×, output included where it is new).
    /// </summary>
    private static int Large()
    {
        var v = Synthetic(new Shape3(512, 512, 300));
        double inMb = v.Data.Length * 4.0 / 1048576;
        var b = Interpolation.Shift(v.Data, v.Shape, 1.5, -2, 1, order: 1);
        var m = Rot(0.1, -0.05, 0.08, 1.03);
        var c = new[] { 255.5, 255.5, 149.5 };
        var off = new double[3];
        for (int i = 0; i < 3; i++) off[i] = c[i] - (m[i, 0] * c[0] + m[i, 1] * c[1] + m[i, 2] * c[2]);
        var t = Affine.FromLinear(Rot(0.05, 0.02, -0.03, 1.0), 2, -1, 3);
        var ops = new (string Name, Func<object> Run)[]
        {
            ("affine_transform o3", () => Interpolation.AffineTransform(v.Data, v.Shape, m, off, null, 3)),
            ("affine_transform o1", () => Interpolation.AffineTransform(v.Data, v.Shape, m, off, null, 1)),
            ("affine_transform o3 nearest", () => Interpolation.AffineTransform(v.Data, v.Shape, m, off, null, 3, BoundaryMode.Nearest)),
            ("zoom 0.5 o3", () => Interpolation.Zoom(v.Data, v.Shape, 0.5, 0.5, 0.5, out _, 3)),
            ("rotate 15° o3", () => Interpolation.Rotate(v.Data, v.Shape, 15, 1, 0, 3)),
            ("resample (world) o1", () => Resample.ToGrid(v, v, t, 1)),
            ("spline_filter o3", () => SplineFilter.Apply(v.Data, v.Shape, 3)),
            ("MSE", () => ImageSimilarity.MeanSquaredError(v.Data, b)),
            ("NCC", () => ImageSimilarity.NormalizedCrossCorrelation(v.Data, b)),
            ("Mattes MI 50", () => MattesMutualInformation.Compute(v.Data, b, 50)),
        };
        Console.WriteLine(F($"512×512×300 float32 input: {inMb:F0} MB"));
        Console.WriteLine($"{"operation",-30} {"ms",9} {"alloc MB",9} {"× input",8}");
        foreach (var (name, run) in ops)
        {
            GC.Collect();
            long before = GC.GetTotalAllocatedBytes(true);
            var sw = Stopwatch.StartNew();
            run();
            sw.Stop();
            double mb = (GC.GetTotalAllocatedBytes(true) - before) / 1048576.0;
            Console.WriteLine(F($"{name,-30} {sw.Elapsed.TotalMilliseconds,9:F0} {mb,9:F0} {mb / inMb,7:F2}×"));
        }
        Console.WriteLine(F($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MB (input and a shifted copy included: {2 * inMb:F0} MB)"));
        return 0;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    internal static Volume Synthetic(Shape3 s)
    {
        // a smooth head-like ellipsoid with texture: deterministic, fast to build
        var d = new float[s.Count];
        var rng = new Random(7);
        Parallel.For(0, s.Z, z =>
        {
            var r = new Random(z);
            for (int y = 0; y < s.Y; y++)
                for (int x = 0; x < s.X; x++)
                {
                    double u = (x - s.X / 2.0) / (s.X * 0.38), w = (y - s.Y / 2.0) / (s.Y * 0.42), q = (z - s.Z / 2.0) / (s.Z * 0.4);
                    double rr = u * u + w * w + q * q;
                    double v = rr < 1 ? 80 + 40 * Math.Sin(x * 0.21) * Math.Cos(y * 0.17) * Math.Sin(z * 0.3) : 5;
                    d[s.Index(x, y, z)] = (float)(v + 4 * r.NextDouble());
                }
        });
        _ = rng;
        return new Volume(s, d, Affine.FromSpacing(1, 1, 1.5), new Spacing3(1, 1, 1.5));
    }

    private static double[,] Rot(double ax, double ay, double az, double scale)
    {
        double cx = Math.Cos(ax), sx = Math.Sin(ax), cy = Math.Cos(ay), sy = Math.Sin(ay), cz = Math.Cos(az), sz = Math.Sin(az);
        var rx = new double[,] { { 1, 0, 0 }, { 0, cx, -sx }, { 0, sx, cx } };
        var ry = new double[,] { { cy, 0, sy }, { 0, 1, 0 }, { -sy, 0, cy } };
        var rz = new double[,] { { cz, -sz, 0 }, { sz, cz, 0 }, { 0, 0, 1 } };
        var r = new double[3, 3];
        var t = new double[3, 3];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 3; k++) t[i, j] += ry[i, k] * rx[k, j];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 3; k++) r[i, j] += rz[i, k] * t[k, j] * scale;
        return r;
    }

    internal static string FindRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "BatchCohort.sln"))) d = d.Parent;
        return d?.FullName ?? Directory.GetCurrentDirectory();
    }

    internal static string RunPython(string script, params object[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(Convert.ToString(a, CultureInfo.InvariantCulture)!);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var outp = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{script} failed ({p.ExitCode}): {err.Result}");
        return outp;
    }

    /// <summary>.npy writer (Fortran order = our x-fastest layout), float32.</summary>
    internal static void WriteNpy(string path, float[] data, Shape3 s)
    {
        var header = $"{{'descr': '<f4', 'fortran_order': True, 'shape': ({s.X}, {s.Y}, {s.Z}), }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        using var fs = File.Create(path);
        fs.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xff), (byte)(header.Length >> 8) });
        fs.Write(System.Text.Encoding.ASCII.GetBytes(header));
        fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
    }

    internal sealed class BenchDir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "bc-bench-" + Guid.NewGuid().ToString("N")[..8]);
        public BenchDir() => Directory.CreateDirectory(Path);
        public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
    }
}
