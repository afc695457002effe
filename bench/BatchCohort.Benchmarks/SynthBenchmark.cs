using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Neuro.Synthesis;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Benchmarks;

/// <summary>
/// <c>batchcohort synth</c>'s per-subject cost on Colin27 (atrophy, pose resampling onto the OASIS grid, bias,
/// Rician noise, int16 Analyze write) against the same resample/bias/noise/write in nibabel + scipy + numpy
/// (bench/…/scripts/synth_numpy.py, no atrophy) for the same poses, in the same run; plus the one-off atlas cost
/// (load ch2 + ch2bet, derive head/ICV masks and tissue classes, depth map).
/// usage: synth [subjects=5]
/// </summary>
public sealed class SynthBenchmark : IBenchmark
{
    public string Name => "synth";
    public string Description => "synthetic subject (atrophy, pose, bias, noise, Analyze write) vs scipy/numpy/nibabel";

    public int Run(string[] args)
    {
        int n = args.Length > 0 && int.TryParse(args[0], out var k) ? k : 5;
        if (!AtlasLibrary.Colin27Available()) { Console.Error.WriteLine("needs mricron-data (ch2.nii.gz, ch2bet.nii.gz)"); return 2; }
        var ci = CultureInfo.InvariantCulture;
        using var dir = new GeometryBenchmark.BenchDir();
        var sw = Stopwatch.StartNew();
        var atlas = AtlasLibrary.Colin27();
        double atlasS = sw.Elapsed.TotalSeconds;
        sw.Restart();
        AtrophyModel.For(atlas);
        double depthS = sw.Elapsed.TotalSeconds;

        var o = new SynthOptions { Subjects = n, Seed = 1 };
        var plans = CohortSynthesizer.Plan(atlas, o);
        // warm-up (JIT) on one subject, then time each
        CohortSynthesizer.Synthesize(atlas, plans[0], o);
        var ours = new List<double>();
        foreach (var p in plans)
        {
            sw.Restart();
            var s = CohortSynthesizer.Synthesize(atlas, p, o);
            VolumeFile.WriteAnalyze(s.Image, Path.Combine(dir.Path, p.Id + "_T1w.hdr"), VoxelType.Int16);
            ours.Add(sw.Elapsed.TotalSeconds);
        }

        var subjects = plans.Select(p =>
        {
            var grid = CohortSynthesizer.GridFor(atlas, p);
            var index = Resample.IndexMap(atlas.Head.Affine, grid, p.AtlasToSubject(atlas.IcvCentroidWorld));
            return new { index = index.ToArray(), grid = grid.ToArray(), bias = p.BiasCoefficients };
        }).ToArray();
        var req = Path.Combine(dir.Path, "req.json");
        File.WriteAllText(req, JsonSerializer.Serialize(new { head = Path.Combine(AtlasLibrary.Colin27Dir, "ch2.nii.gz"), subjects }));
        var script = Path.Combine(GeometryBenchmark.FindRoot(), "bench", "BatchCohort.Benchmarks", "scripts", "synth_numpy.py");
        var py = JsonDocument.Parse(GeometryBenchmark.RunPython(script, req, dir.Path)).RootElement;
        var theirs = py.GetProperty("per_subject_s").EnumerateArray().Select(e => e.GetDouble()).ToList();

        double oursMed = Median(ours), theirsMed = Median(theirs);
        Console.WriteLine(string.Create(ci, $"Colin27 atlas (load, head/ICV masks, tissue classes): {atlasS:F2} s; depth map (EDT): {depthS:F2} s"));
        Console.WriteLine(string.Create(ci, $"{"per subject (median of " + n + ")",-58} {"s",8} {"ratio (theirs/ours)",20}"));
        Console.WriteLine(string.Create(ci, $"{"BatchCohort synth (atrophy+resample+bias+noise+Analyze)",-58} {oursMed,8:F3}"));
        Console.WriteLine(string.Create(ci, $"{"scipy/numpy/nibabel (resample+bias+noise+Analyze)",-58} {theirsMed,8:F3} {theirsMed / oursMed,19:F2}×"));
        BenchResults.Ratio("synthesise one subject", "OASIS grid", oursMed, "scipy/numpy/nibabel", theirsMed, 1, "s");
        Console.WriteLine(string.Create(ci, $"=> a 20-subject cohort: about {atlasS + depthS + 20 * oursMed:F1} s here (ours)"));
        return 0;
    }

    private static double Median(List<double> v)
    {
        var s = v.OrderBy(x => x).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
