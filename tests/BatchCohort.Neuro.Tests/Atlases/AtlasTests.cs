using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Synthesis;
using BatchCohort.Neuro.Tests.Synthesis;
using BatchCohort.TestSupport;

namespace BatchCohort.Neuro.Tests.Atlases;

public class AtlasTests
{
    [RequiresFact(Requirements.Ch2, Requirements.Skimage, Requirements.Nibabel)]
    public void Colin27_intracranial_mask_matches_the_same_recipe_in_scipy_and_is_plausible()
    {
        var atlas = AtlasLibrary.Colin27(Path.GetDirectoryName(Requirements.Ch2Path));
        using var dir = new TempDir("icv");
        var r = SynthOracle.Run(dir.FullName, new { op = "colin27_icv", head = Requirements.Ch2Path, bet = Requirements.Ch2BetPath, npy = dir["icv.npy"] })[0];
        var theirs = Npy.Read(dir["icv.npy"]).ToDoubleFortran();
        var ours = atlas.IcvMask.Data;
        long both = 0, a = 0, b = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            bool x = ours[i] != 0, y = theirs[i] != 0;
            if (x) a++;
            if (y) b++;
            if (x && y) both++;
        }
        double dice = 2.0 * both / (a + b);
        Assert.True(dice > 0.995, $"Dice with the scipy recipe {dice:0.0000}");
        Assert.Equal(r.GetProperty("icv_ml").GetDouble(), atlas.IcvMl, 0.01 * atlas.IcvMl);
        // ch2bet's mask is ≈1737 mL; the intracranial space adds the subarachnoid CSF around it.
        Assert.Equal(1737.2, atlas.BrainMaskMl, 1.0);
        Assert.InRange(atlas.IcvMl, 1.05 * atlas.BrainMaskMl, 1.20 * atlas.BrainMaskMl);
        Assert.True(atlas.IcvMask.And(atlas.BrainMask).CountNonZero() == atlas.BrainMask.CountNonZero(), "the ICV contains the brain mask");
        // Tissue classes by construction: CSF < GM < WM means, brain tissue ≈ 75–90 % of the ICV.
        Assert.True(atlas.MeanIntensity(TissueClass.Csf) < atlas.MeanIntensity(TissueClass.GreyMatter));
        Assert.True(atlas.MeanIntensity(TissueClass.GreyMatter) < atlas.MeanIntensity(TissueClass.WhiteMatter));
        Assert.InRange(atlas.Volumes.BrainMl / atlas.Volumes.IntracranialMl, 0.75, 0.92);
        Assert.Equal(atlas.IcvMl, atlas.Volumes.IntracranialMl, 6);
        Assert.True(atlas.LabelMapFiles.ContainsKey("aal"));
        // cached: the same object comes back
        Assert.Same(atlas, AtlasLibrary.Colin27(Path.GetDirectoryName(Requirements.Ch2Path)));
    }

    [Fact]
    public void Phantom_atlas_masks_come_from_its_labels()
    {
        var atlas = AtlasLibrary.Phantom(new PhantomOptions { VoxelSize = 2, PartialVolume = false });
        var p = HeadPhantom.Generate(new PhantomOptions { VoxelSize = 2, PartialVolume = false });
        Assert.Equal(p.IcvMask().Data, atlas.IcvMask.Data);
        Assert.Equal(p.Volumes(), atlas.Volumes);
        Assert.True(atlas.BrainMaskMl > p.Volumes().BrainMl, "the BET-like brain mask also holds the ventricles");
        Assert.True(atlas.BrainMaskMl < atlas.IcvMl);
    }

    [Fact]
    public void Resolve_names_what_is_wrong()
    {
        var ex = Assert.Throws<ArgumentException>(() => AtlasLibrary.Resolve("/no/such/atlas", out _));
        Assert.Contains("/no/such/atlas", ex.Message);
        using var dir = new TempDir("atlas");
        var ex2 = Assert.Throws<ArgumentException>(() => AtlasLibrary.FromFolder(dir.FullName));
        Assert.Contains("head.nii", ex2.Message);
        Assert.Throws<FileNotFoundException>(() => AtlasLibrary.Colin27(dir.FullName));
        var phantom = AtlasLibrary.Resolve("phantom", out bool fell);
        Assert.False(fell);
        Assert.Equal("phantom", phantom.Name);
    }

    [RequiresFact(Requirements.Ch2)]
    public void A_template_given_by_path_is_loaded_from_its_folder()
    {
        using var dir = new TempDir("atlas");
        File.Copy(Requirements.Ch2Path, dir["head.nii.gz"]);
        File.Copy(Requirements.Ch2BetPath, dir["brain.nii.gz"]);
        var a = AtlasLibrary.Resolve(dir.FullName, out bool fell);
        Assert.False(fell);
        var c = AtlasLibrary.Colin27(Path.GetDirectoryName(Requirements.Ch2Path));
        Assert.Equal(c.IcvMask.Data, a.IcvMask.Data);
        Assert.Equal(c.TissueClasses, a.TissueClasses);
    }
}
