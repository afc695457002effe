using System.Diagnostics;
using System.Globalization;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Formats;
using BatchCohort.Neuro.Pipeline;
using BatchCohort.Neuro.Synthesis;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;

namespace BatchCohort.Benchmarks;

/// <summary>
/// One 256×256×128 subject end to end (load, register, segment, measure, write) with per-step times, beside elastix
/// 5.0.1's affine registration of the same atlas to the same image and the crude scipy pipeline (pipeline_crude.py:
/// smooth, Otsu, components, fill, erode, threshold) on the same file, all in this run.
/// usage: pipeline [--runs N] [--no-elastix] [--no-python]
/// </summary>
public sealed class PipelineBenchmark : IBenchmark
{
    public string Name => "pipeline";
    public string Description => "one 256×256×128 subject end to end (per-step times) vs elastix registration and a crude scipy pipeline";

    public int Run(string[] args)
    {
        int runs = 3;
        int ri = Array.IndexOf(args, "--runs");
        if (ri >= 0 && ri + 1 < args.Length) runs = int.Parse(args[ri + 1], CultureInfo.InvariantCulture);
        var sw = Stopwatch.StartNew();
        var atlas = AtlasLibrary.Resolve(null, out bool phantom);
        Console.WriteLine(F($"atlas {atlas.Name}{(phantom ? " (Colin27 not installed)" : "")}: loaded and masks derived in {sw.Elapsed.TotalSeconds:F2} s (once per cohort)"));
        using var dir = new GeometryBenchmark.BenchDir();
        var o = new SynthOptions { Subjects = 1, Seed = 3 };
        var plan = CohortSynthesizer.Plan(atlas, o)[0];
        var s = CohortSynthesizer.Synthesize(atlas, plan, o);
        string hdr = Path.Combine(dir.Path, "sub-0001_T1w.hdr");
        VolumeFile.WriteAnalyze(s.Image, hdr, VoxelType.Int16);
        string nii = Path.Combine(dir.Path, "sub-0001_T1w.nii");
        VolumeFile.WriteNifti(s.Image, nii, VoxelType.Int16);
        Console.WriteLine(F($"subject: {s.Image.Shape} @ {s.Image.Spacing}, Analyze int16 (synthetic from {atlas.Name}, true brain {s.Truth.BrainMl:F0} mL)"));

        var totals = new List<double>();
        BatchCohort.Neuro.Measurement.SubjectMeasures? best = null;
        Console.WriteLine($"{"run",4} {"load",7} {"register",9} {"segment",8} {"measure",8} {"write",7} {"total",7}");
        for (int i = 0; i < runs; i++)
        {
            var r = SubjectPipeline.Run("0001", hdr, atlas);
            if (!r.Success) { Console.Error.WriteLine($"pipeline failed: {r.FailureReason}"); return 1; }
            var (_, m) = SubjectOutputs.Write(r, Path.Combine(dir.Path, "out" + i));
            totals.Add(m.TimeTotalS);
            if (best is null || m.TimeTotalS < best.TimeTotalS) best = m;
            Console.WriteLine(F($"{i + 1,4} {m.TimeLoadS,7:F2} {m.TimeRegisterS,9:F2} {m.TimeSegmentS,8:F2} {m.TimeMeasureS,8:F2} {m.TimeWriteS,7:F2} {m.TimeTotalS,7:F2}"));
        }
        double ours = totals.Min();
        double oursReg = best!.TimeRegisterS;
        {
            var m = best;
            BenchResults.Figure("one subject end to end", "256×256×128 Analyze", ours, "s", "≤ 3 s", ours <= 3);
            Console.WriteLine(F($"ours: best end-to-end {ours:F2} s (target ≤ 3 s); brain {m.BrainMl:F1} mL (truth {s.Truth.BrainMl:F1}), ICV {m.IcvMl:F1} mL (truth {s.Truth.IntracranialMl:F1})"));
        }

        if (!args.Contains("--no-elastix") && File.Exists("/usr/bin/elastix") && File.Exists(AtlasLibrary.MricronTemplates + "/ch2.nii.gz"))
        {
            string param = Path.Combine(dir.Path, "affine.txt");
            File.WriteAllText(param, RegistrationBenchmark.ElastixParameters);
            string outDir = Path.Combine(dir.Path, "elastix");
            Directory.CreateDirectory(outDir);
            sw.Restart();
            bool ok = RegistrationBenchmark.RunElastix(nii, AtlasLibrary.MricronTemplates + "/ch2.nii.gz", param, outDir, out var log);
            double te = sw.Elapsed.TotalSeconds;
            if (ok) BenchResults.Ratio("affine registration", "256×256×128 vs ch2", oursReg, "elastix 5.0.1 (affine, AdvancedMattesMI)", te, 1, "s");
            Console.WriteLine(ok
                ? F($"elastix 5.0.1 affine registration (same atlas, same subject): {te:F2} s; ours {oursReg:F2} s → {te / oursReg:F1}× faster")
                : "elastix failed: " + log.Split('\n').LastOrDefault(l => l.Length > 0));
        }
        if (!args.Contains("--no-python") && File.Exists("/usr/bin/python3"))
        {
            var script = Path.Combine(Repo.Root, "bench", "BatchCohort.Benchmarks", "pipeline_crude.py");
            var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(script); psi.ArgumentList.Add(hdr); psi.ArgumentList.Add("2");
            using var p = Process.Start(psi)!;
            var text = p.StandardOutput.ReadToEnd();
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) Console.WriteLine("crude scipy pipeline failed: " + err.Trim().Split('\n').Last());
            else
            {
                var f = text.Trim().Split(' ').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
                BenchResults.Ratio("subject end to end", "256×256×128", ours, "crude scipy pipeline (no registration, no tissue classes)", f[0], 1, "s");
                Console.WriteLine(F($"crude scipy pipeline (no registration, no tissue classes): {f[0]:F2} s (brain {f[3]:F0} mL); ours end to end {ours:F2} s → ratio {f[0] / ours:F2}"));
            }
        }
        return 0;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
