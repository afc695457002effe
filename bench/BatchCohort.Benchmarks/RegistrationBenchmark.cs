using System.Diagnostics;
using System.Globalization;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Imaging.Registration;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Benchmarks;

/// <summary>
/// Affine atlas → subject registration, ours against elastix 5.0.1 (affine, AdvancedMattesMutualInformation,
/// parameter file written at run time) on the same pairs in the same run: ch2 (Colin27, with skull) moved by a
/// known affine onto a 256×256×128 grid (0.9375 × 0.9375 × 1.5 mm). Prints each method's brain-bounding-box corner
/// error against the truth and its wall time.
/// usage: registration [randomPoses=3] [--no-elastix]
/// </summary>
public sealed class RegistrationBenchmark : IBenchmark
{
    public string Name => "registration";
    public string Description => "affine registration of ch2 to moved ch2 (256×256×128): ours vs elastix 5.0.1 (corner error, time)";

    private const string Ch2 = "/usr/share/mricron/templates/ch2.nii.gz";
    private const string Ch2Bet = "/usr/share/mricron/templates/ch2bet.nii.gz";

    public int Run(string[] args)
    {
        int poses = args.Length > 0 && int.TryParse(args[0], out var n) ? n : 3;
        bool elastix = !args.Contains("--no-elastix") && File.Exists("/usr/bin/elastix");
        if (!File.Exists(Ch2) || !File.Exists(Ch2Bet)) { Console.Error.WriteLine("needs mricron-data (apt-get install mricron-data)"); return 2; }
        var ch2 = VolumeFile.ReadVolume(Ch2);
        var bet = VolumeFile.ReadVolume(Ch2Bet);
        var corners = BrainCorners(bet);

        var sw = Stopwatch.StartNew();
        var atlas = RegistrationAtlas.Prepare(ch2);
        Console.WriteLine(F($"atlas preparation (once per cohort): {sw.Elapsed.TotalSeconds:F2} s"));

        var cases = new List<(string Name, Affine Truth)> { ("known: rx 10°, rz 5°, ×1.05, t (6,−4,5)", Pose(10, 0, 5, 1.05, 1.05, 1.05, 6, -4, 5)) };
        var rng = new Random(2026);
        double U(double a) => (rng.NextDouble() * 2 - 1) * a;
        for (int i = 0; i < poses; i++)
            cases.Add(($"random {i + 1}", Pose(U(15), U(15), U(15), 1 + U(0.15), 1 + U(0.15), 1 + U(0.15), U(15), U(15), U(15))));

        using var dir = new GeometryBenchmark.BenchDir();
        if (elastix) File.WriteAllText(Path.Combine(dir.Path, "affine.txt"), ElastixParameters);
        Console.WriteLine($"{"case",-44} {"ours mm",8} {"ours s",7} {"elastix mm",11} {"elastix s",10} {"ratio",7}");
        var ourTimes = new List<double>();
        var ourErrors = new List<double>();
        foreach (var (name, truth) in cases)
        {
            var subject = Subject(ch2, truth);
            sw.Restart();
            var r = AffineRegistration.Register(atlas, subject);
            double ours = sw.Elapsed.TotalSeconds;
            double errOurs = CornerError(corners, r.AtlasToSubject, truth);
            ourTimes.Add(ours); ourErrors.Add(errOurs);
            string el = "", elT = "", ratio = "";
            if (elastix)
            {
                var subjPath = Path.Combine(dir.Path, "subject.nii");
                VolumeFile.WriteNifti(subject, subjPath);
                var outDir = Path.Combine(dir.Path, "out");
                Directory.CreateDirectory(outDir);
                sw.Restart();
                var ok = RunElastix(Ch2, subjPath, Path.Combine(dir.Path, "affine.txt"), outDir, out var log);
                double t = sw.Elapsed.TotalSeconds;
                if (ok)
                {
                    var te = ReadElastixAffine(Path.Combine(outDir, "TransformParameters.0.txt"));
                    el = F($"{CornerError(corners, te, truth),11:F3}");
                    elT = F($"{t,10:F2}");
                    ratio = F($"{t / ours,6:F1}×");
                    BenchResults.Ratio("affine registration time", name, ours, "elastix 5.0.1 (affine, AdvancedMattesMI)", t, 1, "s");
                    BenchResults.Figure("corner error", name, errOurs, "mm", "≤ elastix's", errOurs <= CornerError(corners, te, truth) + 1e-9, "elastix 5.0.1", CornerError(corners, te, truth));
                }
                else { el = "    failed"; elT = F($"{t,10:F2}"); Console.Error.WriteLine(log); }
            }
            Console.WriteLine(F($"{name,-44} {errOurs,8:F3} {ours,7:F2} {el} {elT} {ratio}"));
            var levels = string.Join(", ", r.Levels.Select(l => F($"{l.SpacingMm} mm {l.Iterations} it {l.Elapsed.TotalMilliseconds:F0} ms")));
            Console.WriteLine(F($"   ours: {(r.Success ? "ok" : "FAILED: " + r.FailureReason)}; MI {r.FinalSimilarity:F3}; start '{r.StartCandidate}'; pyramid {r.PyramidElapsed.TotalMilliseconds:F0} ms, start search {r.InitialisationElapsed.TotalMilliseconds:F0} ms, {levels}"));
        }
        Console.WriteLine(F($"ours: max corner error {ourErrors.Max():F3} mm, median time {Median(ourTimes):F2} s (subject 256×256×128; target < 5 s)"));
        return 0;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static double Median(List<double> v) { var s = v.OrderBy(x => x).ToList(); return s[s.Count / 2]; }

    internal static Affine Pose(double rxDeg, double ryDeg, double rzDeg, double sx, double sy, double sz, double tx, double ty, double tz)
    {
        double d = Math.PI / 180;
        double cx = Math.Cos(rxDeg * d), sxn = Math.Sin(rxDeg * d), cy = Math.Cos(ryDeg * d), syn = Math.Sin(ryDeg * d), cz = Math.Cos(rzDeg * d), szn = Math.Sin(rzDeg * d);
        var r = new[,]
        {
            { cz * cy, cz * syn * sxn - szn * cx, cz * syn * cx + szn * sxn },
            { szn * cy, szn * syn * sxn + cz * cx, szn * syn * cx - cz * sxn },
            { -syn, cy * sxn, cy * cx },
        };
        var l = new double[3, 3];
        var s = new[] { sx, sy, sz };
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) l[i, j] = r[i, j] * s[j];
        return Affine.FromLinear(l, tx, ty, tz);
    }

    /// <summary>ch2 through T onto a 256×256×128 grid at 0.9375 × 0.9375 × 1.5 mm centred on the moved head, with mild noise.</summary>
    internal static Volume Subject(Volume ch2, Affine truth, int seed = 1)
    {
        var shape = new Shape3(256, 256, 128);
        var sp = new Spacing3(0.9375, 0.9375, 1.5);
        var c = truth.Apply(0, -18, 18);
        var aff = Affine.FromSpacing(sp.X, sp.Y, sp.Z, c.X - sp.X * (shape.X - 1) / 2, c.Y - sp.Y * (shape.Y - 1) / 2, c.Z - sp.Z * (shape.Z - 1) / 2);
        var v = Resample.ToGrid(ch2, shape, aff, truth, order: 1, fill: 0f);
        var rng = new Random(seed);
        var d = v.Data;
        for (int i = 0; i < d.Length; i++) d[i] = Math.Max(0, d[i] + (float)(2.0 * (rng.NextDouble() - 0.5)));
        return v;
    }

    internal static List<(double X, double Y, double Z)> BrainCorners(Volume bet)
    {
        int x0 = int.MaxValue, x1 = -1, y0 = int.MaxValue, y1 = -1, z0 = int.MaxValue, z1 = -1;
        for (int z = 0; z < bet.Shape.Z; z++)
            for (int y = 0; y < bet.Shape.Y; y++)
                for (int x = 0; x < bet.Shape.X; x++)
                    if (bet[x, y, z] > 0)
                    {
                        x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); z0 = Math.Min(z0, z); z1 = Math.Max(z1, z);
                    }
        var corners = new List<(double, double, double)>();
        foreach (var x in new[] { x0, x1 }) foreach (var y in new[] { y0, y1 }) foreach (var z in new[] { z0, z1 }) corners.Add(bet.Affine.Apply(x, y, z));
        return corners;
    }

    internal static double CornerError(List<(double X, double Y, double Z)> corners, Affine recovered, Affine truth) =>
        corners.Max(p =>
        {
            var a = recovered.Apply(p.X, p.Y, p.Z);
            var b = truth.Apply(p.X, p.Y, p.Z);
            return Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));
        });

    internal static bool RunElastix(string fixedPath, string movingPath, string param, string outDir, out string log)
    {
        var psi = new ProcessStartInfo("elastix") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-f", fixedPath, "-m", movingPath, "-p", param, "-out", outDir, "-threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        log = o.Length > 4000 ? o[^4000..] : o;
        log += err.Result;
        return p.ExitCode == 0;
    }

    /// <summary>
    /// elastix's AffineTransform maps fixed (atlas) physical points to moving (subject) points in ITK's LPS space:
    /// y = A(x − c) + c + t. Our world is RAS: T_ras = F·T_lps·F with F = diag(−1, −1, 1).
    /// </summary>
    internal static Affine ReadElastixAffine(string path)
    {
        double[] Values(string key)
        {
            var line = File.ReadLines(path).First(l => l.StartsWith("(" + key + " ", StringComparison.Ordinal));
            return line.Trim('(', ')').Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        }
        var p = Values("TransformParameters");
        var c = Values("CenterOfRotationPoint");
        var a = new double[3, 3];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) a[i, j] = p[i * 3 + j];
        var off = new double[3];
        for (int i = 0; i < 3; i++) off[i] = p[9 + i] + c[i] - (a[i, 0] * c[0] + a[i, 1] * c[1] + a[i, 2] * c[2]);
        var lps = Affine.FromLinear(a, off[0], off[1], off[2]);
        var f = Affine.FromSpacing(-1, -1, 1);
        return f * lps * f;
    }

    internal const string ElastixParameters = """
        (FixedInternalImagePixelType "float")
        (MovingInternalImagePixelType "float")
        (FixedImageDimension 3)
        (MovingImageDimension 3)
        (UseDirectionCosines "true")
        (Registration "MultiResolutionRegistration")
        (Interpolator "BSplineInterpolator")
        (ResampleInterpolator "FinalBSplineInterpolator")
        (Resampler "DefaultResampler")
        (FixedImagePyramid "FixedSmoothingImagePyramid")
        (MovingImagePyramid "MovingSmoothingImagePyramid")
        (Optimizer "AdaptiveStochasticGradientDescent")
        (Transform "AffineTransform")
        (Metric "AdvancedMattesMutualInformation")
        (AutomaticScalesEstimation "true")
        (AutomaticTransformInitialization "true")
        (AutomaticTransformInitializationMethod "CenterOfGravity")
        (HowToCombineTransforms "Compose")
        (NumberOfHistogramBins 32)
        (NumberOfResolutions 3)
        (MaximumNumberOfIterations 500)
        (NumberOfSpatialSamples 4096)
        (NewSamplesEveryIteration "true")
        (ImageSampler "RandomCoordinate")
        (BSplineInterpolationOrder 1)
        (FinalBSplineInterpolationOrder 3)
        (DefaultPixelValue 0)
        (WriteResultImage "false")
        (ResultImageFormat "nii")
        """;
}
