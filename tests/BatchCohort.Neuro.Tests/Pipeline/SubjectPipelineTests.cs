using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Formats;
using BatchCohort.Neuro.Pipeline;
using BatchCohort.Imaging.Processing.Similarity;
using BatchCohort.Neuro.Synthesis;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;
using Xunit.Abstractions;

namespace BatchCohort.Neuro.Tests.Pipeline;

/// <summary>
/// The per-subject pipeline against truths it did not produce: ch2bet (a brain mask made by other software) for ch2
/// segmented with a different atlas (the procedural phantom), the ITK KmeansTest subject's own skull-strip labels
/// (another person, LSA, 2×2×3 mm) with the Colin27 atlas, and synthetic subjects with known volumes and poses.
/// </summary>
public class SubjectPipelineTests
{
    private readonly ITestOutputHelper _out;
    public SubjectPipelineTests(ITestOutputHelper output) => _out = output;

    [RequiresFact(Requirements.Ch2)]
    public void Ch2_segmented_with_the_phantom_atlas_matches_ch2bet()
    {
        var r = SubjectPipeline.Run("ch2", Requirements.Ch2Path, AtlasLibrary.Phantom());
        Assert.True(r.Success, r.FailureReason);
        var bet = Mask.GreaterThan(VolumeFile.ReadVolume(Requirements.Ch2BetPath), 0);
        double dice = Overlap.Dice(r.Brain!.Data, bet.Data);
        double volErr = r.Brain.VolumeMl() / bet.VolumeMl() - 1;
        _out.WriteLine($"ch2 with phantom atlas: brain mask Dice {dice:F4} vs ch2bet>0; volume {r.Brain.VolumeMl():F1} vs {bet.VolumeMl():F1} mL ({volErr * 100:F2}%)");
        Assert.True(dice >= 0.95, $"Dice {dice:F4} < 0.95");
        Assert.True(Math.Abs(volErr) <= 0.03, $"brain volume off by {volErr * 100:F2}%");
    }

    /// <summary>
    /// The ITK KmeansTest subject's "skull strip" labels {4,5,6} are not an intracranial mask: class 4 (CSF) holds 126
    /// voxels (1.5 mL) and the T1 profile outward from the labels stays dark (CSF, bone) for 4–6 mm before the scalp
    /// (scipy: distance shells around the labels). They lie between a brain mask and the ICV: the test asks exactly that,
    /// with the ICV no more than a CSF band (15 %) beyond them.
    /// </summary>
    [RequiresFact(Requirements.Ch2, Requirements.ItkKmeans)]
    public void Itk_subject_with_colin27_has_its_skull_strip_between_its_brain_mask_and_its_icv()
    {
        var r = SubjectPipeline.Run("kmeans", Requirements.ItkKmeansT1, AtlasLibrary.Colin27());
        Assert.True(r.Success, r.FailureReason);
        var labels = VolumeFile.ReadVolume(Requirements.ItkKmeansSkullStrip);
        long n = labels.Data.Count(v => v is 4f or 5f or 6f);
        long csf = labels.Data.Count(v => v is 4f);
        double truth = n * labels.Spacing.VoxelVolumeMm3 / 1000;
        double mask = r.Brain!.VolumeMl();
        double err = mask / truth - 1;
        _out.WriteLine($"ITK KmeansTest (LSA) with Colin27: brain mask {mask:F1} mL vs skull-strip labels {{4,5,6}} {truth:F1} mL ({err * 100:F2}%; {csf} voxels of class 4); ICV {r.Measures!.IcvMl:F1}; eTIV {r.Measures.EtivMl:F1}; flags [{r.Measures.QcFlags}]");
        Assert.InRange(truth, 1500, 1580); // the issue's figure, ≈1541.7 mL: guards against reading the labels wrong
        Assert.True(csf < 0.01 * n, "the labels hold CSF after all: compare the ICV with them");
        Assert.InRange(mask / truth, 0.85, 1.0);
        Assert.InRange(r.Measures.IcvMl / truth, 1.0, 1.15);
    }

    [RequiresFact(Requirements.Ch2)]
    public void Synthetic_cohort_from_colin27_is_measured_within_3_percent_brain_4_percent_icv_with_poses_within_1_mm()
    {
        var atlas = AtlasLibrary.Colin27();
        var o = new SynthOptions { Subjects = 20, Seed = 1 };
        var plans = CohortSynthesizer.Plan(atlas, o);
        var corners = BrainBoxCorners(atlas);
        var rows = new (string Id, double Brain, double TrueBrain, double Icv, double TrueIcv, double Corner)[plans.Count];
        Parallel.For(0, plans.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var s = CohortSynthesizer.Synthesize(atlas, plans[i], o);
            var r = SubjectPipeline.Run(plans[i].Id, s.Image, atlas);
            Assert.True(r.Success, $"{plans[i].Id}: {r.FailureReason}");
            double corner = corners.Max(c =>
            {
                var a = s.AtlasToSubject.Apply(c.X, c.Y, c.Z);
                var b = r.AtlasToSubject!.Apply(c.X, c.Y, c.Z);
                return Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));
            });
            rows[i] = (plans[i].Id, r.Measures!.BrainMl, s.Truth.BrainMl, r.Measures.IcvMl, s.Truth.IntracranialMl, corner);
        });
        foreach (var r in rows)
            _out.WriteLine($"{r.Id}: brain {r.Brain:F1}/{r.TrueBrain:F1} ({(r.Brain / r.TrueBrain - 1) * 100:+0.00;-0.00}%), ICV {r.Icv:F1}/{r.TrueIcv:F1} ({(r.Icv / r.TrueIcv - 1) * 100:+0.00;-0.00}%), corner error {r.Corner:F2} mm");
        double medBrain = Median(rows.Select(r => Math.Abs(r.Brain / r.TrueBrain - 1)));
        double medIcv = Median(rows.Select(r => Math.Abs(r.Icv / r.TrueIcv - 1)));
        double maxCorner = rows.Max(r => r.Corner);
        double rho = Spearman(rows.Select(r => r.Brain).ToArray(), rows.Select(r => r.TrueBrain).ToArray());
        _out.WriteLine($"median |error|: brain {medBrain * 100:F2}%, ICV {medIcv * 100:F2}%; worst corner {maxCorner:F2} mm; Spearman(brain) {rho:F4}");
        // Bounds loosened with pipeline 0.2.0 (issue 12), which finds the ICV in the subject's own image instead of
        // taking the atlas's mask carried by the affine. This case is circular for the old method (subjects made from
        // Colin27, truth = Colin27's own derived masks, measured with Colin27) and flattered it (0.77 % brain, 0.21 % ICV);
        // with the image-based ICV the medians here are brain 2.13 % (−1.6 to −2.5 %) and ICV 2.79 % (−1.1 to +4.5 %)
        // (full suite, 2026-12-02). The non-circular
        // checks are AtlasIndependenceTests and the crossatlas benchmark (docs/pipeline.md).
        Assert.True(medBrain <= 0.03, $"median brain error {medBrain * 100:F2}%");
        Assert.True(medIcv <= 0.04, $"median ICV error {medIcv * 100:F2}%");
        Assert.True(maxCorner <= 1.0, $"pose corner error {maxCorner:F2} mm");
        Assert.True(rho >= 0.95, $"Spearman {rho:F4}");
    }

    [Fact]
    public void Images_that_are_not_heads_fail_with_a_reason()
    {
        var atlas = AtlasLibrary.Phantom();
        var shape = new Shape3(96, 96, 80);
        var rng = new Random(5);
        var noise = Volume.Zeros(shape, Spacing3.Isotropic(2));
        for (int i = 0; i < noise.Data.Length; i++) noise.Data[i] = (float)rng.NextDouble() * 100;
        var blank = Volume.Zeros(shape, Spacing3.Isotropic(2));
        var flat = Volume.Zeros(new Shape3(256, 256, 1), Spacing3.Isotropic(1));
        for (int i = 0; i < flat.Data.Length; i++) flat.Data[i] = i % 97;
        var ball = Volume.Zeros(shape, Spacing3.Isotropic(2));
        for (int z = 0; z < shape.Z; z++) for (int y = 0; y < shape.Y; y++) for (int x = 0; x < shape.X; x++)
            if ((x - 48) * (x - 48) + (y - 48) * (y - 48) + (z - 40) * (z - 40) < 30 * 30) ball[x, y, z] = 500;

        foreach (var (name, vol, expect) in new[] { ("noise", noise, ""), ("blank", blank, "blank"), ("2-D", flat, "3-D"), ("ball", ball, "") })
        {
            var r = SubjectPipeline.Run(name, vol, atlas);
            _out.WriteLine($"{name}: {(r.Success ? "MEASURED" : $"failed at {r.FailedStep}: {r.FailureReason}")}");
            Assert.False(r.Success, $"{name} was measured: brain {r.Measures?.BrainMl}");
            Assert.Null(r.Measures);
            Assert.False(string.IsNullOrWhiteSpace(r.FailureReason));
            Assert.Contains(expect, r.FailureReason);
        }
    }

    [Fact]
    public void Unreadable_input_fails_at_load_naming_the_file()
    {
        using var tmp = new TempDir("pipe");
        var path = tmp["broken.nii"];
        File.WriteAllBytes(path, new byte[100]);
        var r = SubjectPipeline.Run("broken", path, AtlasLibrary.Phantom());
        Assert.False(r.Success);
        Assert.Equal("load", r.FailedStep);
        Assert.Contains("broken.nii", r.FailureReason);
    }

    [RequiresFact(Requirements.Ch2, Requirements.ItkKmeans, Requirements.Nibabel)]
    public void Derivatives_are_written_on_the_input_grid()
    {
        using var tmp = new TempDir("pipe-out");
        var r = SubjectPipeline.Run("kmeans", Requirements.ItkKmeansT1, AtlasLibrary.Colin27());
        Assert.True(r.Success, r.FailureReason);
        var (paths, m) = SubjectOutputs.Write(r, tmp.FullName);
        var input = VolumeFile.ReadVolume(Requirements.ItkKmeansT1);
        foreach (var f in new[] { paths.BrainMask, paths.IcvMask, paths.HeadMask, paths.Dseg })
        {
            var v = VolumeFile.ReadVolume(f);
            Assert.Equal(input.Shape, v.Shape);
            Assert.True(input.Affine.MaxAbsDifference(v.Affine) < 1e-4, $"{f}: affine differs from the input's");
        }
        // nibabel agrees on the ICV volume of our mask file (an independent reader of what we wrote)
        var ml = ExternalTool.Check(Requirements.Python, new[] { "-c",
            $"import nibabel as nib, numpy as np; i=nib.load('{paths.IcvMask}'); print(float((np.asanyarray(i.dataobj)>0).sum()*np.prod(i.header.get_zooms()[:3])/1000))" });
        Assert.Equal(m.IcvMl, double.Parse(ml.Trim(), System.Globalization.CultureInfo.InvariantCulture), 3);
        var dseg = VolumeFile.ReadVolume(paths.Dseg);
        Assert.Equal(new[] { 0f, 1f, 2f, 3f }, dseg.Data.Distinct().OrderBy(x => x).ToArray());
        var png = File.ReadAllBytes(paths.QcPng);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        var csv = File.ReadAllLines(paths.MeasuresCsv);
        Assert.StartsWith("subject_id,head_ml,icv_ml,etiv_ml,asf,brain_ml", csv[0]);
        Assert.StartsWith("kmeans,", csv[1]);
        var xfm = File.ReadAllLines(paths.Transform).Where(l => !l.StartsWith('#')).ToArray();
        Assert.Equal(4, xfm.Length);
        // the same transform as an ITK transform file (checked against transformix/plastimatch in TransformFileTests)
        Assert.EndsWith("sub-kmeans_from-atlas_to-T1w_mode-image_xfm.txt", paths.ItkTransform);
        Assert.StartsWith("#Insight Transform File V1.0", File.ReadAllText(paths.ItkTransform));
        Assert.True(BatchCohort.Imaging.Formats.Transforms.ItkTransformFile.ReadAtlasToSubject(paths.ItkTransform).MaxAbsDifference(r.AtlasToSubject!) < 1e-6);
        Assert.True(m.TimeWriteS > 0);
        // ASF and eTIV: eTIV × ASF is the atlas ICV (the OASIS invariant)
        Assert.Equal(AtlasLibrary.Colin27().IcvMl, m.EtivMl * m.Asf, 6);
    }

    private static (double X, double Y, double Z)[] BrainBoxCorners(Atlas atlas)
    {
        var bm = atlas.BrainMask;
        int x0 = int.MaxValue, x1 = -1, y0 = int.MaxValue, y1 = -1, z0 = int.MaxValue, z1 = -1;
        for (int z = 0; z < bm.Shape.Z; z++)
            for (int y = 0; y < bm.Shape.Y; y++)
                for (int x = 0; x < bm.Shape.X; x++)
                    if (bm.Data[bm.Shape.Index(x, y, z)] != 0)
                    {
                        x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); z0 = Math.Min(z0, z); z1 = Math.Max(z1, z);
                    }
        var list = new List<(double, double, double)>();
        foreach (var cx in new[] { x0, x1 }) foreach (var cy in new[] { y0, y1 }) foreach (var cz in new[] { z0, z1 })
            list.Add(atlas.Head.Affine.Apply(cx, cy, cz));
        return list.ToArray();
    }

    private static double Median(IEnumerable<double> v)
    {
        var a = v.OrderBy(x => x).ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }

    private static double Spearman(double[] a, double[] b)
    {
        double[] Rank(double[] x)
        {
            var idx = Enumerable.Range(0, x.Length).OrderBy(i => x[i]).ToArray();
            var r = new double[x.Length];
            for (int i = 0; i < idx.Length;)
            {
                int j = i;
                while (j + 1 < idx.Length && x[idx[j + 1]] == x[idx[i]]) j++;
                for (int k = i; k <= j; k++) r[idx[k]] = (i + j) / 2.0 + 1;
                i = j + 1;
            }
            return r;
        }
        var ra = Rank(a); var rb = Rank(b);
        double ma = ra.Average(), mb = rb.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (ra[i] - ma) * (rb[i] - mb); saa += (ra[i] - ma) * (ra[i] - ma); sbb += (rb[i] - mb) * (rb[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }
}
