using System.Text.Json;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Formats.Mgh;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;

namespace BatchCohort.Imaging.Tests.Formats;

/// <summary>FreeSurfer MGH/MGZ against nibabel's MGHImage: files nibabel wrote read with nibabel's voxels and affine;
/// files we wrote read by nibabel the same; broken files refused with one message naming the file.</summary>
public sealed class MghTests
{
    private static (string Name, string Path)[] Cases(string dir, string script, string list)
    {
        ExternalTool.Python("nibabel_mgh.py", script, dir);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, list)));
        return doc.RootElement.EnumerateArray().Select(e => (e.GetProperty("name").GetString()!, e.GetProperty("path").GetString()!)).ToArray();
    }

    [RequiresFact(Requirements.Nibabel)]
    public void Files_nibabel_wrote_read_with_identical_voxels_and_affine_and_ours_read_back_in_nibabel_the_same()
    {
        using var tmp = new TempDir("mgh");
        var cases = Cases(tmp.FullName, "write", "written.json");
        Assert.True(cases.Length >= 6);
        var types = new HashSet<VoxelType>();
        var ourFiles = new List<string>();
        var images = new List<SpatialImage>();
        using (var oracle = new NibabelOracle(cases.Select(c => c.Path)))
        {
            for (int i = 0; i < cases.Length; i++)
            {
                var (name, path) = cases[i];
                var img = VolumeFile.Read(path);
                Assert.Equal(ImageFileFormat.Mgh, img.Format);
                FormatAssert.AgreesWithNibabel(img, oracle.FileInfos[i], oracle.FileData(i), name, affineTol: 1e-4);
                Assert.Equal(oracle.FileInfos[i].Zooms.Length, img.Zooms.Length);
                for (int k = 0; k < img.Zooms.Length; k++) Assert.Equal(oracle.FileInfos[i].Zooms[k], img.Zooms[k], 4);
                types.Add(img.DataType);
                images.Add(img);
                // and ours, written from what we read
                var mine = tmp[$"ours{i}" + (i % 2 == 0 ? ".mgz" : ".mgh")];
                VolumeFile.Write(img, mine);
                ourFiles.Add(mine);
            }
        }
        Assert.Equal(new[] { VoxelType.UInt8, VoxelType.Int16, VoxelType.Int32, VoxelType.Float32 }.OrderBy(t => t), types.OrderBy(t => t));
        Assert.Contains(images, im => im.NDim == 4 && im.Frames == 3);

        using var back = new NibabelOracle(ourFiles);
        for (int i = 0; i < ourFiles.Count; i++)
        {
            Assert.Equal("MGHImage", back.FileInfos[i].Class);
            FormatAssert.AgreesWithNibabel(images[i], back.FileInfos[i], back.FileData(i), "ours of " + cases[i].Name, affineTol: 1e-4);
        }
    }

    [RequiresFact(Requirements.Nibabel)]
    public void A_float_volume_written_as_mgz_reads_back_in_nibabel_with_its_affine()
    {
        using var tmp = new TempDir("mgh-vol");
        var affine = new Affine(new double[] { 0, 0, -1.2, 90, -0.9, 0, 0, 110, 0, 1.1, 0, -40, 0, 0, 0, 1 }); // PSL-like, left-handed
        var v = new Volume(new Shape3(6, 7, 8), Enumerable.Range(0, 336).Select(i => i * 0.25f - 3).ToArray(), affine);
        var p = tmp["vol.mgz"];
        VolumeFile.Write(v, p);
        var r = VolumeFile.ReadVolume(p);
        Assert.Equal(v.Data, r.Data);
        Assert.True(r.Affine.MaxAbsDifference(affine) < 1e-4);
        using var oracle = new NibabelOracle(new[] { p });
        Assert.True(new Affine(oracle.FileInfos[0].Affine).MaxAbsDifference(affine) < 1e-4, new Affine(oracle.FileInfos[0].Affine).ToString());
        Assert.Equal(v.Data.Select(x => (double)x).ToArray(), oracle.FileData(0));
        // MGH has no scale factor: non-integer values as int16 are refused rather than rounded
        Assert.Throws<ArgumentException>(() => VolumeFile.Write(v, tmp["vol_i16.mgz"], VoxelType.Int16));
    }

    [RequiresFact(Requirements.Nibabel)]
    public void Broken_mgh_files_are_refused_with_one_line_naming_the_file()
    {
        using var tmp = new TempDir("mgh-bad");
        var cases = Cases(tmp.FullName, "bad", "bad.json");
        var expect = new Dictionary<string, string>
        {
            ["truncated voxels"] = "truncated",
            ["header cut short"] = "shorter than the 90-byte MGH header",
            ["version 2"] = "version is 2",
            ["little-endian header"] = "little-endian",
            ["type LONG (2)"] = "type 2 (LONG) is not supported",
            ["zero depth"] = "must all be at least 1",
            ["not gzip data"] = "gzip",
        };
        foreach (var (name, path) in cases)
        {
            var ex = Assert.Throws<ImageFormatException>(() => VolumeFile.Read(path));
            Assert.StartsWith(path + ": ", ex.Message);
            Assert.DoesNotContain('\n', ex.Message);
            Assert.True(ex.Message.Contains(expect[name], StringComparison.Ordinal), $"{name}: {ex.Message}");
        }
    }
}
