using System.Buffers.Binary;
using BatchCohort.Cli;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests.Commands;

public sealed class InspectCommandTests : IDisposable
{
    private readonly TempDir _dir = new("inspect");
    public void Dispose() => _dir.Dispose();

    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = await CliApp.RunAsync(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private Volume Known()
    {
        // LSA grid (like the ITK Kmeans T1): x → left, y → superior, z → anterior; 2 × 3 × 1.5 mm
        var affine = new Affine(new double[] { -2, 0, 0, 40, 0, 0, 1.5, -30, 0, 3, 0, 12, 0, 0, 0, 1 });
        var v = new Volume(new Shape3(7, 6, 5), new float[7 * 6 * 5], affine);
        for (int i = 0; i < v.Data.Length; i++) v.Data[i] = i - 17;
        return v;
    }

    [Theory]
    [InlineData("known.nii")]
    [InlineData("known.nii.gz")]
    [InlineData("known_pair.hdr")]
    public async Task Inspect_NiftiFiles_ShowsDimsSpacingTypeOrientationAffineRange(string name)
    {
        var p = _dir[name];
        VolumeFile.WriteNifti(Known(), p, VoxelType.Int16);
        var (code, output, err) = await Run("inspect", p);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Contains("dims:        7 × 6 × 5", output);
        Assert.Contains("spacing:     2 × 3 × 1.5 mm", output);
        Assert.Contains("datatype:    int16  (unscaled)", output);
        Assert.Contains("orientation: LSA", output);
        Assert.Contains("from sform (sform_code 2 aligned)", output);
        Assert.Contains("           -2            0            0           40", output);
        Assert.Contains("            0            0          1.5          -30", output);
        Assert.Contains("            0            3            0           12", output);
        Assert.Contains("            0            0            0            1", output);
        Assert.Contains("intensity:   -17 .. 192", output);
        Assert.Contains(name.EndsWith(".gz") ? "gzip" : "NIfTI-1", output);
    }

    [Fact]
    public async Task Inspect_Analyze_ShowsNibabelConventionAffine()
    {
        var v = new Volume(new Shape3(8, 8, 4), new float[256], Affine.FromSpacing(-1, 1, 1.25, 3.5, -3.5, -1.875));
        for (int i = 0; i < 256; i++) v.Data[i] = i * 0.5f; // not integers: int16 with a scale factor
        var p = _dir["oasis.hdr"];
        VolumeFile.WriteAnalyze(v, p, VoxelType.Int16);
        var (code, output, _) = await Run("inspect", _dir["oasis.img"]);
        Assert.Equal(0, code);
        Assert.Contains("format:      Analyze 7.5, little-endian", output);
        Assert.Contains("orientation: LAS", output);
        Assert.Contains("centre of the array, x flipped", output);
        Assert.Contains("scaled: value = raw ×", output);
        Assert.Contains("intensity:   0 .. 127.5", output);
    }

    [Fact]
    public async Task Inspect_TruncatedNii_OneLineExit2()
    {
        var p = _dir["broken.nii"];
        VolumeFile.WriteNifti(Known(), p, VoxelType.Int16);
        File.WriteAllBytes(p, File.ReadAllBytes(p)[..400]);
        var (code, output, err) = await Run("inspect", p);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        var lines = err.TrimEnd('\n', '\r').Split('\n');
        Assert.Single(lines);
        Assert.StartsWith($"batchcohort: error: {p}: file is too short for its header", lines[0]);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public async Task Inspect_WrongMagic_HdrWithoutImg_HugeDims_Missing_AllExit2WithOneLine()
    {
        var magic = _dir["magic.nii"];
        VolumeFile.WriteNifti(Known(), magic);
        var b = File.ReadAllBytes(magic); "abc\0"u8.CopyTo(b.AsSpan(344)); File.WriteAllBytes(magic, b);

        var lonely = _dir["lonely.hdr"];
        VolumeFile.WriteAnalyze(Volume.Zeros(new Shape3(4, 4, 4), new Spacing3(1, 1, 1)), lonely);
        File.Delete(_dir["lonely.img"]);

        var huge = _dir["huge.nii.gz"];
        VolumeFile.WriteNifti(Known(), _dir["huge_src.nii"]);
        var raw = File.ReadAllBytes(_dir["huge_src.nii"]);
        for (int k = 1; k <= 3; k++) BinaryPrimitives.WriteInt16LittleEndian(raw.AsSpan(40 + 2 * k), 1000);
        using (var fs = File.Create(huge))
        using (var gz = new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionLevel.Fastest)) gz.Write(raw);

        var cases = new (string Path, string Problem)[]
        {
            (magic, "wrong magic: 'abc' is not a NIfTI magic"),
            (lonely, "the image file lonely.img (or .img.gz) of this Analyze/NIfTI pair is missing"),
            (huge, "1000×1000×1000 float32 needs 4,000,000,000 bytes of voxel data, more than one image may hold"),
            (_dir["absent.nii"], "file not found"),
        };
        foreach (var (path, problem) in cases)
        {
            var (code, output, err) = await Run("inspect", path);
            Assert.Equal(ExitCodes.BadInput, code);
            Assert.Equal("", output);
            Assert.Single(err.TrimEnd('\n', '\r').Split('\n'));
            Assert.StartsWith($"batchcohort: error: {path}: {problem}", err);
        }
    }

    [Fact]
    public async Task Inspect_Mgz_ShowsFreeSurferFormat_And_A_Broken_One_Is_One_Line_Exit2()
    {
        var p = _dir["known.mgz"];
        VolumeFile.Write(Known(), p, VoxelType.Int16);
        var (code, output, err) = await Run("inspect", p);
        Assert.True(code == 0, err);
        Assert.Contains("format:      FreeSurfer MGH, big-endian, gzip", output);
        Assert.Contains("orientation: LSA", output);
        Assert.Contains("vox2ras", output);
        Assert.Contains("intensity:   -17 .. 192", output);

        // an MGH header with version 2, gzipped
        var bad = _dir["bad.mgz"];
        var header = new byte[284 + 8];
        BinaryPrimitives.WriteInt32BigEndian(header, 2);
        using (var fs = File.Create(bad))
        using (var gz = new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionLevel.Fastest))
            gz.Write(header);
        (code, output, err) = await Run("inspect", bad);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        var line = Assert.Single(err.TrimEnd('\n', '\r').Split('\n'));
        Assert.Contains(bad, line);
        Assert.Contains("version is 2", line);
    }
}
