using System.Globalization;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Synthesis;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;

namespace BatchCohort.Neuro.Tests.Synthesis;

public class CohortSynthesizerTests
{
    private static Atlas PhantomAtlas => AtlasLibrary.Phantom();

    private static Dictionary<string, Dictionary<string, string>> ReadTsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var head = lines[0].Split('\t');
        return lines.Skip(1).Select(l => l.Split('\t')).ToDictionary(c => c[0], c => head.Zip(c).ToDictionary(p => p.First, p => p.Second));
    }

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public void Same_seed_gives_the_same_bytes_and_another_seed_does_not()
    {
        using var a = new TempDir("synA");
        using var b = new TempDir("synB");
        using var c = new TempDir("synC");
        var o = new SynthOptions { Subjects = 2, Seed = 7 };
        CohortSynthesizer.Run(PhantomAtlas, o, a.FullName);
        CohortSynthesizer.Run(PhantomAtlas, o, b.FullName);
        CohortSynthesizer.Run(PhantomAtlas, o with { Seed = 8 }, c.FullName);
        var files = Directory.GetFiles(a.FullName, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a.FullName, f)).OrderBy(f => f).ToArray();
        Assert.Contains(Path.Combine("sub-0001", "anat", "sub-0001_T1w.img"), files);
        Assert.Contains("truth.tsv", files);
        Assert.Contains("participants.tsv", files);
        Assert.Equal(files, Directory.GetFiles(b.FullName, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(b.FullName, f)).OrderBy(f => f));
        foreach (var f in files)
            Assert.True(File.ReadAllBytes(Path.Combine(a.FullName, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b.FullName, f))), $"{f} differs between two runs with the same seed");
        foreach (var f in new[] { Path.Combine("sub-0001", "anat", "sub-0001_T1w.img"), Path.Combine("sub-0002", "anat", "sub-0002_T1w.img"), "truth.tsv" })
            Assert.False(File.ReadAllBytes(Path.Combine(a.FullName, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(c.FullName, f))), $"{f} is the same for seeds 7 and 8");
    }

    [RequiresFact(Requirements.Nibabel)]
    public void Nibabel_reads_the_subjects_on_the_oasis_grid_and_counts_the_truth()
    {
        using var dir = new TempDir("synN");
        var o = new SynthOptions { Subjects = 2, Seed = 3, WriteTruthLabels = true };
        var written = CohortSynthesizer.Run(PhantomAtlas, o, dir.FullName);
        var plans = CohortSynthesizer.Plan(PhantomAtlas, o);
        var img0 = CohortSynthesizer.Synthesize(PhantomAtlas, plans[0], o).Image;
        var dseg = written.Select(w => Path.Combine(dir.FullName, "derivatives", "truth", w.Plan.Id, "anat", w.Plan.Id + "_dseg.nii.gz")).ToArray();
        var nifti = CohortSynthesizer.Run(PhantomAtlas, o with { Subjects = 1, Format = SynthFormat.Nifti, WriteTruthLabels = false }, dir["nifti"]);
        Assert.EndsWith("sub-0001_T1w.nii.gz", nifti[0].ImagePath);
        var res = SynthOracle.Run(dir.FullName,
            new { op = "read", path = written[0].ImagePath, npy = dir["s0.npy"] },
            new { op = "read", path = written[1].ImagePath },
            new { op = "count", path = dseg[0] },
            new { op = "count", path = dseg[1] },
            new { op = "read", path = nifti[0].ImagePath, npy = dir["n0.npy"] });
        // the NIfTI variant holds the same voxels on the same grid
        Assert.Equal("Nifti1Image", res[4].GetProperty("class").GetString());
        var naff = res[4].GetProperty("affine").EnumerateArray().SelectMany(row => row.Doubles()).ToArray();
        Assert.True(new Affine(naff).MaxAbsDifference(written[0].GridAffine) < 1e-4);
        Assert.Equal(Npy.Read(dir["s0.npy"]).ToDoubleFortran(), Npy.Read(dir["n0.npy"]).ToDoubleFortran());
        for (int s = 0; s < 2; s++)
        {
            var r = res[s];
            Assert.Equal(new[] { 256.0, 256, 128 }, r.GetProperty("shape").Doubles());
            Assert.Equal(new[] { 1.0, 1.0, 1.25 }, r.GetProperty("zooms").Doubles());
            Assert.Equal("int16", r.GetProperty("dtype").GetString());
            Assert.Equal("LAS", r.GetProperty("axcodes").GetString());
            var aff = r.GetProperty("affine").EnumerateArray().SelectMany(row => row.Doubles()).ToArray();
            Assert.True(new Affine(aff).MaxAbsDifference(written[s].GridAffine) < 1e-4, $"nibabel affine {new Affine(aff)} vs ours {written[s].GridAffine}");
        }
        // nibabel's voxels are ours
        var theirs = Npy.Read(dir["s0.npy"]).ToDoubleFortran();
        Assert.Equal(img0.Data.Length, theirs.Length);
        for (int i = 0; i < theirs.Length; i++)
            if (theirs[i] != img0.Data[i]) Assert.Fail($"voxel {i}: nibabel {theirs[i]} vs ours {img0.Data[i]}");
        // Counting the resampled truth labels (nearest neighbour, 1.25 mm³ voxels) agrees with the exact truth.
        for (int s = 0; s < 2; s++)
        {
            var counts = res[2 + s].GetProperty("counts").EnumerateObject().ToDictionary(p => int.Parse(p.Name), p => p.Value.GetInt64());
            double v = res[2 + s].GetProperty("voxel_mm3").GetDouble() / 1000;
            double icv = (counts.GetValueOrDefault(1) + counts.GetValueOrDefault(2) + counts.GetValueOrDefault(3)) * v;
            double brain = (counts.GetValueOrDefault(2) + counts.GetValueOrDefault(3)) * v;
            var t = written[s].Truth;
            Assert.InRange(icv / t.IntracranialMl, 0.99, 1.01);
            Assert.InRange(brain / t.BrainMl, 0.985, 1.015);
        }
    }

    [RequiresFact(Requirements.Nibabel)]
    public void The_truth_affine_moves_an_atlas_landmark_to_where_the_image_shows_it()
    {
        // The phantom with a bright 3 mm ball deep in the white matter at atlas world (25, 10, 30).
        var baseAtlas = PhantomAtlas;
        var head = baseAtlas.Head.Clone();
        var inv = head.Affine.Inverse();
        var (cx, cy, cz) = inv.Apply(25, 10, 30);
        for (int z = (int)cz - 4; z <= cz + 4; z++)
            for (int y = (int)cy - 4; y <= cy + 4; y++)
                for (int x = (int)cx - 4; x <= cx + 4; x++)
                    if ((x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz) <= 9) head[x, y, z] = 400;
        var atlas = new Atlas("phantom+marker", "test", head, baseAtlas.HeadMask, baseAtlas.BrainMask, baseAtlas.IcvMask,
            baseAtlas.TissueClasses, new Dictionary<string, string>(), Array.Empty<string>());
        using var dir = new TempDir("synL");
        var written = CohortSynthesizer.Run(atlas, new SynthOptions { Subjects = 3, Seed = 11 }, dir.FullName);
        var res = SynthOracle.Run(dir.FullName, written.Select(w => (object)new { op = "bright_centroid", path = w.ImagePath, threshold = 2000.0 }).ToArray());
        for (int s = 0; s < written.Count; s++)
        {
            var expect = written[s].AtlasToSubject.Apply(25, 10, 30);
            var got = res[s].GetProperty("world").Doubles();
            double err = Math.Sqrt(Math.Pow(got[0] - expect.X, 2) + Math.Pow(got[1] - expect.Y, 2) + Math.Pow(got[2] - expect.Z, 2));
            Assert.True(res[s].GetProperty("count").GetInt32() > 20, "the marker is visible");
            Assert.True(err < 0.5, $"{written[s].Plan.Id}: marker at ({got[0]:0.00}, {got[1]:0.00}, {got[2]:0.00}), truth affine says ({expect.X:0.00}, {expect.Y:0.00}, {expect.Z:0.00}): {err:0.00} mm apart");
            // and the pose really moved it (rotations/translations are not trivially zero)
            var p = written[s].Plan;
            Assert.True(Math.Abs(p.RotationDeg.X) + Math.Abs(p.RotationDeg.Y) + Math.Abs(p.RotationDeg.Z) > 1);
        }
    }

    [Fact]
    public void Truth_table_is_plausible()
    {
        var atlas = Requirements.Has(Requirements.Ch2) ? AtlasLibrary.Colin27(Path.GetDirectoryName(Requirements.Ch2Path)) : PhantomAtlas;
        var o = new SynthOptions { Subjects = 40, Seed = 5 };
        var plans = CohortSynthesizer.Plan(atlas, o);
        var rows = plans.Select(p => (Plan: p, Truth: CohortSynthesizer.Atrophy(atlas, p, o).Truth)).ToList();
        Assert.Equal(20, rows.Count(r => r.Plan.Group == "patient"));
        Assert.Equal(20, rows.Count(r => r.Plan.Sex == "F"));
        foreach (var (p, t) in rows)
        {
            Assert.InRange(p.Age, o.AgeMin, o.AgeMax);
            Assert.InRange(p.SizeFactor, 0.85, 1.15);
            Assert.InRange(Math.Abs(p.RotationDeg.X), 0, 15);
            Assert.InRange(Math.Abs(p.TranslationMm.Z), 0, 15);
            Assert.Equal(t.IntracranialMl, t.CsfMl + t.GreyMl + t.WhiteMl, 6);
            // eTIV identity: atlas ICV / ASF = subject ICV (atrophy does not change the intracranial space)
            double asf = 1 / p.AtlasToSubject(atlas.IcvCentroidWorld).Determinant3;
            Assert.Equal(atlas.IcvMl / asf, t.IntracranialMl, 6);
            // the brain shrank to the planned fraction (to within a voxel)
            Assert.Equal(p.BrainFraction, t.BrainMl / (atlas.Volumes.BrainMl / asf), 4);
            Assert.InRange(t.BrainMl / t.IntracranialMl, 0.65, 0.9);
        }
        double ratio(string g) => rows.Where(r => r.Plan.Group == g).Average(r => r.Truth.BrainMl / r.Truth.IntracranialMl);
        double mean(string g, Func<TissueVolumes, double> f) => rows.Where(r => r.Plan.Group == g).Average(r => f(r.Truth));
        Assert.True(ratio("patient") < ratio("control") - 0.02, $"brain/ICV patients {ratio("patient"):0.000} vs controls {ratio("control"):0.000}");
        Assert.True(mean("patient", t => t.BrainMl) < mean("control", t => t.BrainMl));
        double icvOf(string sex) => rows.Where(r => r.Plan.Sex == sex).Average(r => r.Truth.IntracranialMl);
        Assert.True(icvOf("M") > icvOf("F") * 1.1, $"male ICV {icvOf("M"):0} vs female {icvOf("F"):0}");
        Assert.InRange(rows.Average(r => r.Truth.IntracranialMl), 1300, 1700);
        // older controls have less brain relative to their head
        var controls = rows.Where(r => r.Plan.Group == "control").ToList();
        double corr = Correlation(controls.Select(r => r.Plan.Age).ToArray(), controls.Select(r => r.Truth.BrainMl / r.Truth.IntracranialMl).ToArray());
        Assert.True(corr < -0.5, $"age vs brain/ICV correlation among controls {corr:0.00}");
    }

    [Fact]
    public void The_written_truth_table_matches_the_plans()
    {
        using var dir = new TempDir("synT");
        var o = new SynthOptions { Subjects = 2, Seed = 9 };
        var written = CohortSynthesizer.Run(PhantomAtlas, o, dir.FullName);
        var truth = ReadTsv(Path.Combine(dir.FullName, "truth.tsv"));
        var part = ReadTsv(Path.Combine(dir.FullName, "participants.tsv"));
        Assert.Equal(new[] { "sub-0001", "sub-0002" }, truth.Keys.OrderBy(k => k));
        foreach (var w in written)
        {
            var row = truth[w.Plan.Id];
            Assert.Equal(w.Truth.IntracranialMl, D(row["icv_ml"]), 3);
            Assert.Equal(w.Truth.BrainMl, D(row["brain_ml"]), 3);
            Assert.Equal(w.Asf, D(row["asf"]), 6);
            var a = new double[16];
            string[] names = { "a11", "a12", "a13", "a14", "a21", "a22", "a23", "a24", "a31", "a32", "a33", "a34" };
            for (int k = 0; k < 12; k++) a[k] = D(row[names[k]]);
            a[15] = 1;
            Assert.True(new Affine(a).MaxAbsDifference(w.AtlasToSubject) < 1e-12);
            Assert.Equal(w.Plan.Group, part[w.Plan.Id]["group"]);
            Assert.Equal(w.Plan.Sex, part[w.Plan.Id]["sex"]);
            Assert.Equal(w.Plan.Age, D(part[w.Plan.Id]["age"]), 1);
        }
        Assert.True(File.Exists(Path.Combine(dir.FullName, "dataset_description.json")));
    }

    [Fact]
    public void Rejects_bad_options()
    {
        Assert.Throws<ArgumentException>(() => CohortSynthesizer.Plan(PhantomAtlas, new SynthOptions { Subjects = 0 }));
        Assert.Throws<ArgumentException>(() => CohortSynthesizer.Plan(PhantomAtlas, new SynthOptions { AgeMin = 80, AgeMax = 60 }));
        Assert.Throws<ArgumentException>(() => CohortSynthesizer.Plan(PhantomAtlas, new SynthOptions { NoiseFraction = -1 }));
    }

    private static double Correlation(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my); }
        return sxy / Math.Sqrt(sxx * syy);
    }
}
