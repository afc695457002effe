using System.Globalization;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Pipeline;
using BatchCohort.Neuro.Synthesis;

namespace BatchCohort.Benchmarks;

/// <summary>
/// Test–retest at full size (issue 12; CI runs the same at 2 mm: TestRetestTests): each subject synthesised, then
/// scanned again with <see cref="CohortSynthesizer.Rescan"/> (same anatomy, new rigid pose, bias field and noise), both
/// measured; prints per-subject and median |difference| of ICV, brain (GM + WM) and brain mask (target ≤ 0.5 %).
/// usage: retest [--subjects N] [--mm 2] [--atlas phantom|colin27] [--seed S]
/// </summary>
public sealed class RetestBenchmark : IBenchmark
{
    public string Name => "retest";
    public string Description => "test–retest: subjects re-scanned in a new pose with new noise and bias, median |difference| of ICV and brain";

    public int Run(string[] args)
    {
        string? Opt(string name) { int k = Array.IndexOf(args, name); return k >= 0 && k + 1 < args.Length ? args[k + 1] : null; }
        int n = int.Parse(Opt("--subjects") ?? "10", CultureInfo.InvariantCulture);
        double? mm = Opt("--mm") is string m ? double.Parse(m, CultureInfo.InvariantCulture) : null;
        ulong seed = ulong.Parse(Opt("--seed") ?? "41", CultureInfo.InvariantCulture);
        var atlas = Opt("--atlas") == "colin27" ? AtlasLibrary.Colin27() : AtlasLibrary.Phantom();
        var o = new SynthOptions { Subjects = n, Seed = seed };
        var dI = new List<double>(); var dB = new List<double>(); var dM = new List<double>();
        foreach (var p in CohortSynthesizer.Plan(atlas, o))
        {
            var s1 = CohortSynthesizer.Synthesize(atlas, p, o, mm);
            var s2 = CohortSynthesizer.Synthesize(atlas, CohortSynthesizer.Rescan(atlas, p, o, 1), o, mm);
            var r1 = SubjectPipeline.Run(p.Id, s1.Image, atlas);
            var r2 = SubjectPipeline.Run(p.Id, s2.Image, atlas);
            if (!r1.Success || !r2.Success) { Console.WriteLine($"{p.Id}: FAILED {r1.FailureReason ?? r2.FailureReason}"); continue; }
            var a = r1.Measures!; var b = r2.Measures!;
            double i = b.IcvMl / a.IcvMl - 1, br = b.BrainMl / a.BrainMl - 1, mk = r2.Brain!.VolumeMl() / r1.Brain!.VolumeMl() - 1;
            dI.Add(Math.Abs(i)); dB.Add(Math.Abs(br)); dM.Add(Math.Abs(mk));
            Console.WriteLine(F($"{p.Id}: ICV {a.IcvMl:F1}/{b.IcvMl:F1} ({i * 100:+0.00;-0.00}%) brain {a.BrainMl:F1}/{b.BrainMl:F1} ({br * 100:+0.00;-0.00}%) mask {mk * 100:+0.00;-0.00}%; truth ICV {s1.Truth.IntracranialMl:F1} brain {s1.Truth.BrainMl:F1}; {a.TimeTotalS:F1}+{b.TimeTotalS:F1} s"));
        }
        if (dI.Count == 0) return 1;
        double mi = CrossAtlasBenchmark.Median(dI), mb = CrossAtlasBenchmark.Median(dB), mmk = CrossAtlasBenchmark.Median(dM);
        string size = F($"{dI.Count} subjects, {(mm is double v ? v + " mm" : "256×256×128")}, {atlas.Name} atlas");
        BenchResults.Figure("test–retest median |ΔICV|", size, mi * 100, "%", "≤ 0.5 %", mi <= 0.005);
        BenchResults.Figure("test–retest median |Δbrain|", size, mb * 100, "%", "≤ 0.5 %", mb <= 0.005);
        Console.WriteLine(F($"test–retest, {size}: median |difference| ICV {mi * 100:F2}%, brain {mb * 100:F2}%, brain mask {mmk * 100:F2}% (target ≤ 0.5 %)"));
        return 0;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
