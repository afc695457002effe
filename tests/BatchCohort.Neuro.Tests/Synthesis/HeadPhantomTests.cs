using System.Text.Json;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Synthesis;
using BatchCohort.TestSupport;

namespace BatchCohort.Neuro.Tests.Synthesis;

/// <summary>One 1 mm phantom shared by the tests of this class (generation takes a second or two).</summary>
public sealed class PhantomFixture
{
    public HeadPhantom Phantom { get; } = HeadPhantom.Generate();
}

public class HeadPhantomTests : IClassFixture<PhantomFixture>
{
    private readonly HeadPhantom _p;

    public HeadPhantomTests(PhantomFixture f) => _p = f.Phantom;

    [Fact]
    public void Has_the_colin27_grid()
    {
        Assert.Equal(new BatchCohort.Imaging.Volumes.Shape3(181, 217, 181), _p.Shape);
        Assert.Equal("RAS", _p.T1.OrientationCode);
        var w = _p.Affine.Apply(90, 126, 72);
        Assert.Equal((0.0, 0.0, 0.0), (w.X, w.Y, w.Z));
    }

    [Fact]
    public void Volumes_are_those_of_a_plausible_adult_head()
    {
        var v = _p.Volumes();
        Assert.InRange(v.IntracranialMl, 1400, 1900);
        Assert.InRange(v.BrainMl / v.IntracranialMl, 0.72, 0.88);
        Assert.InRange(v.GreyMl, 400, 800);
        Assert.InRange(v.WhiteMl, 400, 900);
        Assert.InRange(v.CsfMl, 150, 450);
        var c = _p.LabelCounts();
        double ml(PhantomLabel l) => c[(int)l] * _p.VoxelVolumeMl;
        Assert.InRange(ml(PhantomLabel.Ventricle), 8, 40);
        Assert.InRange(ml(PhantomLabel.DeepGrey), 10, 40);
        Assert.InRange(ml(PhantomLabel.CerebellarGrey) + ml(PhantomLabel.CerebellarWhite), 80, 180);
        Assert.InRange(ml(PhantomLabel.Skull), 300, 700);
    }

    [RequiresFact(Requirements.Scipy)]
    public void Truth_volumes_and_masks_agree_with_an_independent_count_of_the_labels()
    {
        using var dir = new TempDir("phantom");
        Npy.Write(dir["labels.npy"], _p.Labels, _p.Shape.X, _p.Shape.Y, _p.Shape.Z);
        var icv = _p.IcvMask();
        var brain = _p.BrainMask();
        var head = _p.HeadMask();
        Npy.Write(dir["icv.npy"], icv.Data, _p.Shape.X, _p.Shape.Y, _p.Shape.Z);
        Npy.Write(dir["brain.npy"], brain.Data, _p.Shape.X, _p.Shape.Y, _p.Shape.Z);
        Npy.Write(dir["head.npy"], head.Data, _p.Shape.X, _p.Shape.Y, _p.Shape.Z);
        var lines = ExternalTool.Python("label_counts.py", dir["labels.npy"], dir["icv.npy"], dir["brain.npy"], dir["head.npy"])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Dictionary<int, long> counts(int i)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            return doc.RootElement.GetProperty("counts").EnumerateObject().ToDictionary(p => int.Parse(p.Name), p => p.Value.GetInt64());
        }
        var labels = counts(0);
        long sum(params PhantomLabel[] ls) => ls.Sum(l => labels.GetValueOrDefault((int)l));
        // Truth volumes = numpy's voxel counts × 1 mm³.
        var v = _p.Volumes();
        Assert.Equal(sum(PhantomLabel.Csf, PhantomLabel.Ventricle) / 1000.0, v.CsfMl, 9);
        Assert.Equal(sum(PhantomLabel.CorticalGrey, PhantomLabel.DeepGrey, PhantomLabel.CerebellarGrey) / 1000.0, v.GreyMl, 9);
        Assert.Equal(sum(PhantomLabel.WhiteMatter, PhantomLabel.CerebellarWhite, PhantomLabel.Brainstem) / 1000.0, v.WhiteMl, 9);
        // Masks = unions of the labels, as numpy counts them.
        Assert.Equal(sum(PhantomLabel.Csf, PhantomLabel.CorticalGrey, PhantomLabel.WhiteMatter, PhantomLabel.Ventricle, PhantomLabel.DeepGrey,
            PhantomLabel.CerebellarGrey, PhantomLabel.CerebellarWhite, PhantomLabel.Brainstem), counts(1)[1]);
        Assert.Equal(sum(PhantomLabel.CorticalGrey, PhantomLabel.WhiteMatter, PhantomLabel.DeepGrey, PhantomLabel.CerebellarGrey,
            PhantomLabel.CerebellarWhite, PhantomLabel.Brainstem), counts(2)[1]);
        Assert.Equal(_p.Shape.Count - labels[(int)PhantomLabel.Air], counts(3)[1]);
        Assert.Equal(v.IntracranialMl, icv.VolumeMl(), 9);
        Assert.Equal(v.BrainMl, brain.VolumeMl(), 9);
        // and the tissue-class map counts the same
        var tv = TissueVolumes.Count(_p.TissueClasses(), 1.0);
        Assert.Equal(v, tv);
    }

    [Fact]
    public void Intensities_follow_T1_contrast()
    {
        double mean(PhantomLabel l)
        {
            double s = 0; long n = 0;
            var d = _p.T1.Data;
            for (int i = 0; i < d.Length; i++) if (_p.Labels[i] == (byte)l) { s += d[i]; n++; }
            return s / n;
        }
        double csf = mean(PhantomLabel.Ventricle), gm = mean(PhantomLabel.CorticalGrey), wm = mean(PhantomLabel.WhiteMatter);
        Assert.True(csf < gm - 30 && gm < wm - 20, $"CSF {csf:0} < GM {gm:0} < WM {wm:0}");
        Assert.Equal(0f, _p.T1[0, 0, 0]);
    }

    [Fact]
    public void The_cortex_is_folded_and_the_pattern_follows_the_seed()
    {
        var opts = new PhantomOptions { VoxelSize = 2, PartialVolume = false };
        var a = HeadPhantom.Generate(opts);
        var b = HeadPhantom.Generate(opts);
        Assert.Equal(a.Labels, b.Labels);
        Assert.Equal(a.T1.Data, b.T1.Data);
        var other = HeadPhantom.Generate(opts with { FoldingSeed = 99 });
        Assert.NotEqual(a.Labels, other.Labels);
        var smooth = HeadPhantom.Generate(opts with { Folding = false });
        // Folding puts grey matter and sulcal CSF where a smooth ribbon has white matter.
        Assert.True(a.Volumes().GreyMl > 1.2 * smooth.Volumes().GreyMl, $"folded GM {a.Volumes().GreyMl:0} vs smooth {smooth.Volumes().GreyMl:0}");
        // The skull, scalp and intracranial space do not depend on folding.
        Assert.Equal(a.IcvMask().Data, smooth.IcvMask().Data);
    }

    [Fact]
    public void The_face_lies_outside_the_skull_and_changes_no_intracranial_label()
    {
        var opts = new PhantomOptions { VoxelSize = 2, PartialVolume = false };
        var plain = HeadPhantom.Generate(opts with { Face = false });
        var faced = HeadPhantom.Generate(opts with { Face = true });
        Assert.True(new PhantomOptions().Face, "the phantom has a face by default (pipeline 0.5.0)");
        // Every voxel whose label differs was air or soft tissue (scalp, neck) and is soft tissue now: the intracranial
        // labels and the skull are untouched, so the truth volumes are the same.
        int changed = 0;
        for (int i = 0; i < plain.Labels.Length; i++)
        {
            if (plain.Labels[i] == faced.Labels[i]) continue;
            changed++;
            Assert.True(plain.Labels[i] is (byte)PhantomLabel.Air or (byte)PhantomLabel.SoftTissue, $"voxel {i}: {(PhantomLabel)plain.Labels[i]} changed");
            Assert.Equal((byte)PhantomLabel.SoftTissue, faced.Labels[i]);
        }
        Assert.Equal(plain.Volumes(), faced.Volumes());
        Assert.Equal(plain.IcvMask().Data, faced.IcvMask().Data);
        Assert.Equal(plain.LabelCounts()[(int)PhantomLabel.Skull], faced.LabelCounts()[(int)PhantomLabel.Skull]);
        // The face is anterior-inferior: the new head tissue lies in front of y = 0 and below z = 0, and it holds dark
        // eyes (vitreous) surrounded by bright orbital fat at Colin27's eye centres (x ±34, y 62, z −38).
        double sy = 0, sz = 0; int n = 0;
        for (int z = 0; z < plain.Shape.Z; z++)
            for (int y = 0; y < plain.Shape.Y; y++)
                for (int x = 0; x < plain.Shape.X; x++)
                {
                    int i = plain.Shape.Index(x, y, z);
                    if (plain.Labels[i] == (byte)PhantomLabel.Air && faced.Labels[i] != (byte)PhantomLabel.Air) { var w = faced.Affine.Apply(x, y, z); sy += w.Y; sz += w.Z; n++; }
                }
        Assert.True(n * 8 > 100_000, $"only {n * 8 / 1000.0:F0} mL of face");
        Assert.True(sy / n > 20 && sz / n < -20, $"face centroid y {sy / n:F0}, z {sz / n:F0}");
        float at(double wx, double wy, double wz) { var v = faced.Affine.Inverse().Apply(wx, wy, wz); return faced.T1[(int)Math.Round(v.X), (int)Math.Round(v.Y), (int)Math.Round(v.Z)]; }
        Assert.InRange(at(34, 60, -38), 20, 45);
        Assert.InRange(at(-34, 60, -38), 20, 45);
        Assert.True(at(28, 40, -38) > 140, $"orbital fat {at(28, 40, -38)}");
    }

    [Fact]
    public void Rejects_unreasonable_options()
    {
        Assert.Throws<ArgumentException>(() => HeadPhantom.Generate(new PhantomOptions { VoxelSize = 0.1 }));
        Assert.Throws<ArgumentException>(() => HeadPhantom.Generate(new PhantomOptions { CorticalThickness = double.NaN }));
    }
}
