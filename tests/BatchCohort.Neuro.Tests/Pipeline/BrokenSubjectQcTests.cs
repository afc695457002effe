using BatchCohort.Imaging.Registration;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Pipeline;
using BatchCohort.Neuro.Synthesis;
using BatchCohort.TestSupport;
using Xunit.Abstractions;

namespace BatchCohort.Neuro.Tests.Pipeline;

/// <summary>
/// Issue 12, "QC: deliberately broken subjects are flagged or failed, never silently measured". Each case breaks a
/// phantom-derived subject (2 mm, exact truth) in one way and asserts the pipeline either fails it with a reason or
/// measures it with a QC flag. A case that the pipeline measures correctly despite the breakage (within 1 % of the
/// unbroken subject and at its pose) is not a silent error and passes too; the test prints which happened.
/// </summary>
public class BrokenSubjectQcTests
{
    private readonly ITestOutputHelper _out;
    public BrokenSubjectQcTests(ITestOutputHelper output) => _out = output;

    private static readonly Lazy<(Volume Image, SubjectResult Reference)> Normal = new(() =>
    {
        var (img, _) = AtlasIndependenceTests.SmallSubject();
        return (img, SubjectPipeline.Run("normal", img, AtlasLibrary.Phantom()));
    });

    /// <summary>Rotation matrices (row-major) of whole turns about the world axes.</summary>
    private static double[] Turn(char axis, double degrees)
    {
        var (s, c) = Math.SinCos(degrees * Math.PI / 180);
        return axis switch
        {
            'x' => new[] { 1, 0, 0, 0, c, -s, 0, s, c },
            'y' => new[] { c, 0, s, 0, 1, 0, -s, 0, c },
            _ => new[] { c, -s, 0, s, c, 0, 0, 0, 1 },
        };
    }

    [Theory]
    [InlineData('x', 180)]   // upside down, face still forward
    [InlineData('x', 90)]    // nose up
    [InlineData('z', 180)]   // facing backwards
    [InlineData('y', 90)]    // lying on its side
    public void A_wrong_start_pose_forced_is_flagged_or_failed(char axis, double degrees)
    {
        var (img, reference) = Normal.Value;
        Assert.True(reference.Success, reference.FailureReason);
        var settings = new PipelineSettings { Registration = AffineRegistrationSettings.Default with { ForcedStart = Turn(axis, degrees) } };
        var r = SubjectPipeline.Run("turned", img, AtlasLibrary.Phantom(), settings);
        string Describe()
        {
            if (!r.Success) return $"failed at {r.FailedStep}: {r.FailureReason}";
            var m = r.Measures!;
            return $"measured ICV {m.IcvMl:F1} (unbroken {reference.Measures!.IcvMl:F1}), brain {m.BrainMl:F1} ({reference.Measures.BrainMl:F1}), " +
                   $"Dice {m.QcAtlasDice:F2}, WM Dice {m.QcWhiteMatterDice:F2}, MI {m.QcSimilarity:F3} (unbroken {reference.Measures.QcSimilarity:F3}), pose {CornerDistance(r.AtlasToSubject!, reference.AtlasToSubject!):F1} mm from the unbroken one, flags [{m.QcFlags}]";
        }
        _out.WriteLine($"start turned {degrees}° about {axis}: {Describe()}");
        AssertFlaggedFailedOrRight(r, reference);
    }

    /// <summary>Failed with a reason, flagged, or measured right (pose within 2 mm, ICV and brain within 1 %).</summary>
    private static void AssertFlaggedFailedOrRight(SubjectResult r, SubjectResult reference)
    {
        if (!r.Success) { Assert.False(string.IsNullOrWhiteSpace(r.FailureReason)); return; }
        if (r.Measures!.QcFlags.Length > 0) return;
        var m = r.Measures; var n = reference.Measures!;
        double pose = CornerDistance(r.AtlasToSubject!, reference.AtlasToSubject!);
        Assert.True(pose <= 2 && Math.Abs(m.IcvMl / n.IcvMl - 1) <= 0.01 && Math.Abs(m.BrainMl / n.BrainMl - 1) <= 0.01,
            $"measured without a flag and wrong: pose {pose:F1} mm off, ICV {m.IcvMl:F1} vs {n.IcvMl:F1}, brain {m.BrainMl:F1} vs {n.BrainMl:F1}");
    }

    /// <summary>Largest distance (mm) between two atlas → subject transforms at the corners of the phantom's brain box.</summary>
    internal static double CornerDistance(Affine a, Affine b)
    {
        var bm = AtlasLibrary.Phantom().BrainMask;
        int x0 = int.MaxValue, x1 = -1, y0 = int.MaxValue, y1 = -1, z0 = int.MaxValue, z1 = -1;
        for (int z = 0; z < bm.Shape.Z; z++)
            for (int y = 0; y < bm.Shape.Y; y++)
                for (int x = 0; x < bm.Shape.X; x++)
                    if (bm.Data[bm.Shape.Index(x, y, z)] != 0)
                    {
                        x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); z0 = Math.Min(z0, z); z1 = Math.Max(z1, z);
                    }
        double worst = 0;
        foreach (var cx in new[] { x0, x1 }) foreach (var cy in new[] { y0, y1 }) foreach (var cz in new[] { z0, z1 })
        {
            var p = bm.Affine.Apply(cx, cy, cz);
            var u = a.Apply(p.X, p.Y, p.Z); var v = b.Apply(p.X, p.Y, p.Z);
            worst = Math.Max(worst, Math.Sqrt((u.X - v.X) * (u.X - v.X) + (u.Y - v.Y) * (u.Y - v.Y) + (u.Z - v.Z) * (u.Z - v.Z)));
        }
        return worst;
    }

    /// <summary>
    /// Half a head outside the field of view, cut along each axis and from either side (the upper 45 % only is in
    /// AtlasIndependenceTests): failed with a reason that names the field of view, or flagged at its edge.
    /// </summary>
    [Theory]
    [InlineData(0, true)]    // left half only
    [InlineData(1, false)]   // front half only
    [InlineData(2, true)]    // lower half only: the vertex and most of the cerebrum cut off
    public void Half_a_head_cut_along_any_axis_is_refused_or_flagged(int axis, bool keepLow)
    {
        var (img, _) = Normal.Value;
        var s = img.Shape;
        int[] n = { s.X, s.Y, s.Z };
        // the cut through the head's centre of mass along this axis
        double sum = 0, sw = 0;
        for (int z = 0; z < s.Z; z++) for (int y = 0; y < s.Y; y++) for (int x = 0; x < s.X; x++)
        {
            float v = img.Data[s.Index(x, y, z)];
            sum += v * (axis == 0 ? x : axis == 1 ? y : z); sw += v;
        }
        int mid = (int)Math.Round(sum / sw);
        int lo = keepLow ? 0 : mid, hi = keepLow ? mid : n[axis];
        var ns = new Shape3(axis == 0 ? hi - lo : s.X, axis == 1 ? hi - lo : s.Y, axis == 2 ? hi - lo : s.Z);
        var data = new float[ns.Count];
        for (int z = 0; z < ns.Z; z++) for (int y = 0; y < ns.Y; y++) for (int x = 0; x < ns.X; x++)
            data[ns.Index(x, y, z)] = img.Data[s.Index(x + (axis == 0 ? lo : 0), y + (axis == 1 ? lo : 0), z + (axis == 2 ? lo : 0))];
        var origin = img.Affine.Apply(axis == 0 ? lo : 0, axis == 1 ? lo : 0, axis == 2 ? lo : 0);
        var a = img.Affine;
        var cut = new Volume(ns, data, new Affine(new[] { a[0, 0], a[0, 1], a[0, 2], origin.X, a[1, 0], a[1, 1], a[1, 2], origin.Y, a[2, 0], a[2, 1], a[2, 2], origin.Z, 0, 0, 0, 1 }));
        var r = SubjectPipeline.Run("half", cut, AtlasLibrary.Phantom());
        _out.WriteLine($"axis {axis}, voxels {lo}..{hi - 1} of {n[axis]} kept: " + (r.Success ? $"MEASURED ICV {r.Measures!.IcvMl:F0} [{r.Measures.QcFlags}]" : $"failed at {r.FailedStep}: {r.FailureReason}"));
        if (r.Success) Assert.Contains("icv_at_fov_edge", r.Measures!.QcFlags);
        else Assert.Contains("field of view", r.FailureReason);
    }

    /// <summary>
    /// Issue 12's OASIS-layout cross-atlas failure, reproduced: Colin27-derived subjects in OASIS's raw sagittal layout
    /// (read with the Analyze convention: turned and mirrored), measured with the phantom atlas. Cause (crossatlas
    /// --oasis --mm 2): across these anatomies Mattes MI hardly tells front from back (0.20–0.22 nats for the true
    /// orientation, for the head facing backwards and for a 19° tilt), and on 3 of 5 subjects the backwards pose scores
    /// higher, so the 48-orientation start search takes it (ICV +13 … +61 %). Not fixable by search; what this asserts
    /// is that each such subject is failed, flagged (orientation_ambiguous: the result beats the gross alternative
    /// orientations by less than 0.05 nats; 0.70–0.98 on the same anatomy, 0.34 for the ITK subject with Colin27) or
    /// measured right (axes within 25° of the truth up to a left–right mirror, ICV within 5 %).
    /// </summary>
    [RequiresFact(Requirements.Ch2)]
    public void Oasis_layout_subjects_from_Colin27_measured_with_the_phantom_are_flagged_failed_or_right()
    {
        var colin = AtlasLibrary.Colin27();
        var o = new SynthOptions { Subjects = 3, Seed = 12, Layout = SynthLayout.Oasis };
        foreach (var plan in CohortSynthesizer.Plan(colin, o))
        {
            var s = CohortSynthesizer.Synthesize(colin, plan, o, 2.0);
            var read = OasisGrid.AnalyzeReading(s.Image.Shape, s.Image.Spacing);
            var v = new Volume(s.Image.Shape, s.Image.Data, read, s.Image.Spacing);
            var truth = read * s.Image.Affine.Inverse() * s.AtlasToSubject;
            var r = SubjectPipeline.Run(plan.Id, v, AtlasLibrary.Phantom());
            if (!r.Success) { _out.WriteLine($"{plan.Id}: failed at {r.FailedStep}: {r.FailureReason}"); continue; }
            var m = r.Measures!;
            double Angle(int k)
            {
                double dot = 0, nf = 0, nt = 0;
                for (int i = 0; i < 3; i++) { dot += r.AtlasToSubject![i, k] * truth[i, k]; nf += r.AtlasToSubject[i, k] * r.AtlasToSubject[i, k]; nt += truth[i, k] * truth[i, k]; }
                return Math.Acos(Math.Clamp(dot / Math.Sqrt(nf * nt), -1, 1)) * 180 / Math.PI;
            }
            double aR = Math.Min(Angle(0), 180 - Angle(0)), aA = Angle(1), aS = Angle(2);
            double eIcv = m.IcvMl / s.Truth.IntracranialMl - 1;
            _out.WriteLine($"{plan.Id}: axes off R {aR:F0}° (mirror allowed) A {aA:F0}° S {aS:F0}°, ICV {m.IcvMl:F1}/{s.Truth.IntracranialMl:F1} ({eIcv * 100:+0.0;-0.0}%), brain {m.BrainMl:F1}/{s.Truth.BrainMl:F1}, margin {m.QcOrientationMargin:F3}, flags [{m.QcFlags}]");
            bool right = aR <= 25 && aA <= 25 && aS <= 25 && Math.Abs(eIcv) <= 0.05;
            Assert.True(right || m.QcFlags.Length > 0, $"{plan.Id} measured wrong without a flag: A {aA:F0}°, S {aS:F0}°, ICV {eIcv * 100:+0.0;-0.0}%");
        }
    }

    /// <summary>
    /// A head whose inside is scrambled: the outline, scalp and skull are the subject's, but the 8 mm blocks whose
    /// centre lies in the unbroken run's intracranial mask are shuffled among themselves (head-like intensities,
    /// CSF/GM/WM all present, no brain). It registers (the outline is a head); it must not be measured as one without
    /// a flag. Blocks are chosen by their centre, not by lying wholly inside: since pipeline 0.4.0 the ICV hugs the
    /// brain, and blocks wholly inside it leave the cortical ribbon in place (a brain's surface over a jumbled core:
    /// depth ratio 1.23, WM Dice 0.61, not flagged; docs/pipeline.md, Not done). With the cortex scrambled too the
    /// depth ratio is 1.06.
    /// </summary>
    [Fact]
    public void A_scrambled_head_that_registers_is_flagged_or_failed()
    {
        var (img, reference) = Normal.Value;
        Assert.True(reference.Success, reference.FailureReason);
        // the reference masks are on the canonical (RAS) grid; scramble there
        var canon = reference.Subject!;
        var icv = reference.Intracranial!;
        var s = canon.Shape;
        const int B = 4;
        var blocks = new List<(int X, int Y, int Z)>();
        for (int z = 0; z + B <= s.Z; z += B)
            for (int y = 0; y + B <= s.Y; y += B)
                for (int x = 0; x + B <= s.X; x += B)
                {
                    if (icv.Data[s.Index(x + B / 2, y + B / 2, z + B / 2)] != 0) blocks.Add((x, y, z));
                }
        var order = blocks.ToArray();
        new Random(12).Shuffle(order);
        var data = (float[])canon.Data.Clone();
        for (int b = 0; b < blocks.Count; b++)
        {
            var (dx, dy, dz) = blocks[b]; var (sx, sy, sz) = order[b];
            for (int k = 0; k < B; k++) for (int j = 0; j < B; j++) for (int i = 0; i < B; i++)
                data[s.Index(dx + i, dy + j, dz + k)] = canon.Data[s.Index(sx + i, sy + j, sz + k)];
        }
        var scrambled = canon.WithData(data);
        var r = SubjectPipeline.Run("scrambled", scrambled, AtlasLibrary.Phantom());
        _out.WriteLine($"{blocks.Count} blocks of {2 * B} mm shuffled: " + (r.Success
            ? $"measured ICV {r.Measures!.IcvMl:F1} brain {r.Measures.BrainMl:F1} (unbroken {reference.Measures!.IcvMl:F1}, {reference.Measures.BrainMl:F1}); Dice {r.Measures.QcAtlasDice:F2}, MI {r.Measures.QcSimilarity:F3}, cut {r.Measures.QcBrainCut:F3}, gw {r.Measures.QcGreyWhiteContrast:F2}, WM Dice {r.Measures.QcWhiteMatterDice:F2} (unbroken {reference.Measures.QcWhiteMatterDice:F2}), WM depth ratio {r.Measures.QcWhiteMatterDepthRatio:F2} (unbroken {reference.Measures.QcWhiteMatterDepthRatio:F2}); flags [{r.Measures.QcFlags}]"
            : $"failed at {r.FailedStep}: {r.FailureReason}"));
        Assert.True(!r.Success || r.Measures!.QcFlags.Length > 0, "a scrambled head was measured without a flag");
    }
}
