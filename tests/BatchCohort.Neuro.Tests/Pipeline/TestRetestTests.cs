using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Pipeline;
using BatchCohort.Neuro.Synthesis;
using Xunit.Abstractions;

namespace BatchCohort.Neuro.Tests.Pipeline;

/// <summary>
/// Issue 12, test–retest: the same anatomy scanned twice (a new random rigid pose, new Rician noise, a new bias field;
/// <see cref="CohortSynthesizer.Rescan"/>) must measure the same. OASIS reports 0.55 % for eTIV and SIENAX 0.96 % for
/// brain volume; the target is a median |difference| ≤ 0.5 % for brain (GM + WM) and ICV over 10 subjects (asserted
/// for brain; ICV misses it and is asserted at 1 %).
/// Phantom-derived subjects synthesised directly on a 2 mm grid (CI cost), measured with the phantom atlas; the
/// full-size figure is the <c>retest</c> benchmark.
/// </summary>
public class TestRetestTests
{
    private readonly ITestOutputHelper _out;
    public TestRetestTests(ITestOutputHelper output) => _out = output;

    internal sealed record Pair(string Id, double Icv1, double Icv2, double Brain1, double Brain2, double Mask1, double Mask2, double TrueIcv, double TrueBrain, string Flags, string? Failure);

    /// <summary>Scan and re-scan of each subject, measured. Shared with the benchmark.</summary>
    internal static Pair[] Measure(Atlas atlas, SynthOptions o, double? voxelMm, int parallel)
    {
        var plans = CohortSynthesizer.Plan(atlas, o);
        var pairs = new Pair[plans.Count];
        Parallel.For(0, plans.Count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, i =>
        {
            var p = plans[i];
            var s1 = CohortSynthesizer.Synthesize(atlas, p, o, voxelMm);
            var s2 = CohortSynthesizer.Synthesize(atlas, CohortSynthesizer.Rescan(atlas, p, o, 1), o, voxelMm);
            var r1 = SubjectPipeline.Run(p.Id, s1.Image, atlas);
            var r2 = SubjectPipeline.Run(p.Id, s2.Image, atlas);
            string? fail = !r1.Success ? "scan: " + r1.FailureReason : !r2.Success ? "re-scan: " + r2.FailureReason : null;
            pairs[i] = fail is not null
                ? new Pair(p.Id, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, s1.Truth.IntracranialMl, s1.Truth.BrainMl, "", fail)
                : new Pair(p.Id, r1.Measures!.IcvMl, r2.Measures!.IcvMl, r1.Measures.BrainMl, r2.Measures.BrainMl, r1.Brain!.VolumeMl(), r2.Brain!.VolumeMl(),
                    s1.Truth.IntracranialMl, s1.Truth.BrainMl, string.Join(';', new[] { r1.Measures.QcFlags, r2.Measures.QcFlags }.Where(f => f.Length > 0)), null);
        });
        return pairs;
    }

    internal static double Median(IEnumerable<double> v)
    {
        var a = v.OrderBy(x => x).ToArray();
        return a.Length == 0 ? double.NaN : a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }

    [Fact]
    public void Ten_subjects_rescanned_in_a_new_pose_with_new_noise_and_bias_measure_the_same()
    {
        var atlas = AtlasLibrary.Phantom();
        var pairs = Measure(atlas, new SynthOptions { Subjects = 10, Seed = 41 }, 2.0, 2);
        foreach (var p in pairs)
            _out.WriteLine(p.Failure is not null ? $"{p.Id}: FAILED {p.Failure}" :
                $"{p.Id}: ICV {p.Icv1:F1} / {p.Icv2:F1} ({(p.Icv2 / p.Icv1 - 1) * 100:+0.00;-0.00}%), brain {p.Brain1:F1} / {p.Brain2:F1} ({(p.Brain2 / p.Brain1 - 1) * 100:+0.00;-0.00}%), " +
                $"mask {(p.Mask2 / p.Mask1 - 1) * 100:+0.00;-0.00}%; truth ICV {p.TrueIcv:F1}, brain {p.TrueBrain:F1} [{p.Flags}]");
        Assert.All(pairs, p => Assert.True(p.Failure is null, $"{p.Id}: {p.Failure}"));
        double dIcv = Median(pairs.Select(p => Math.Abs(p.Icv2 / p.Icv1 - 1))), dBrain = Median(pairs.Select(p => Math.Abs(p.Brain2 / p.Brain1 - 1)));
        double dMask = Median(pairs.Select(p => Math.Abs(p.Mask2 / p.Mask1 - 1)));
        _out.WriteLine($"test–retest, 10 subjects @ 2 mm: median |difference| ICV {dIcv * 100:F2}%, brain {dBrain * 100:F2}%, brain mask {dMask * 100:F2}% (target ≤ 0.5 %)");
        // The target, 0.5 %, for both. ICV: 0.67 % with pipeline 0.3.0, 0.25 % with 0.4.0 (inner table by
        // intensity, 2026-12-02; docs/pipeline.md, Test–retest).
        Assert.True(dIcv <= 0.005, $"ICV test–retest median |difference| {dIcv * 100:F2}% > 0.5 %");
        Assert.True(dBrain <= 0.005, $"brain test–retest median |difference| {dBrain * 100:F2}% > 0.5 %");
    }
}
