using System.Globalization;
using System.Text.RegularExpressions;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Formats.Transforms;
using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;

namespace BatchCohort.Imaging.Tests.Formats.Transforms;

/// <summary>
/// Our atlas → subject affine exported for other tools, checked by the tools themselves: elastix's transformix
/// (points with -def, ch2 resampled with -in) reads the TransformParameters file, plastimatch (ITK's transform
/// reader) reads the ITK transform file; both must put every point within 0.1 mm of where our own resampler
/// (Resample.ToGrid / IndexMap) takes it. The subject grid is oblique and the transform has rotation, anisotropic
/// scale, shear and translation, so a wrong RAS/LPS sign, a transposed matrix or a swapped direction fails.
/// </summary>
public sealed class TransformFileTests
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;
    private static readonly Affine Lps = new(new double[] { -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 });

    private static double[,] Rot(double a, double b, double c)
    {
        double ca = Math.Cos(a), sa = Math.Sin(a), cb = Math.Cos(b), sb = Math.Sin(b), cc = Math.Cos(c), sc = Math.Sin(c);
        var rx = new Affine(new double[] { 1, 0, 0, 0, 0, ca, -sa, 0, 0, sa, ca, 0, 0, 0, 0, 1 });
        var ry = new Affine(new double[] { cb, 0, sb, 0, 0, 1, 0, 0, -sb, 0, cb, 0, 0, 0, 0, 1 });
        var rz = new Affine(new double[] { cc, -sc, 0, 0, sc, cc, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 });
        return (rz * ry * rx).Linear;
    }

    private static Affine Mul(double[,] a, double[,] b, double tx, double ty, double tz)
    {
        var m = new double[3, 3];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 3; k++) m[i, j] += a[i, k] * b[k, j];
        return Affine.FromLinear(m, tx, ty, tz);
    }

    // subject grid: 3 × 3 × 3.5 mm, rotated; atlas → subject: rotation, scales 1.08/0.95/1.02, a shear, a shift
    private static readonly Shape3 SubjectShape = new(48, 56, 44);
    private static readonly Affine SubjectAffine = Mul(Rot(0.2, -0.1, 0.3), new double[,] { { 3, 0, 0 }, { 0, 3, 0 }, { 0, 0, 3.5 } }, -72, -95, -70);
    private static readonly Affine AtlasToSubject = Mul(Rot(0.1, 0.05, -0.08), new double[,] { { 1.08, 0.05, 0 }, { 0, 0.95, 0 }, { 0, 0, 1.02 } }, 4, -7, 10);

    /// <summary>Where our resampler samples the atlas for subject voxel (x, y, z): atlas world RAS.</summary>
    private static (double X, double Y, double Z) Ours(Affine atlasGrid, int x, int y, int z)
    {
        var idx = Resample.IndexMap(atlasGrid, SubjectAffine, AtlasToSubject).Apply(x, y, z);
        return atlasGrid.Apply(idx.X, idx.Y, idx.Z);
    }

    private static double Dist((double X, double Y, double Z) a, (double X, double Y, double Z) b) =>
        Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));

    [RequiresFact(Requirements.Elastix, Requirements.Ch2)]
    public void Transformix_maps_points_and_resamples_ch2_where_we_do()
    {
        using var tmp = new TempDir("xfm-elastix");
        var ch2 = VolumeFile.ReadVolume(Requirements.Ch2Path);
        File.WriteAllText(tmp["tp.txt"], ElastixTransformFile.Format(AtlasToSubject, SubjectShape, SubjectAffine, interpolationOrder: 1));

        // points: every 5th subject voxel along each axis, given to transformix in LPS
        var pts = new List<(int X, int Y, int Z)>();
        for (int z = 0; z < SubjectShape.Z; z += 5) for (int y = 0; y < SubjectShape.Y; y += 5) for (int x = 0; x < SubjectShape.X; x += 5) pts.Add((x, y, z));
        var lines = new List<string> { "point", pts.Count.ToString(Ci) };
        foreach (var (x, y, z) in pts)
        {
            var p = (Lps * SubjectAffine).Apply(x, y, z);
            lines.Add(string.Create(Ci, $"{p.X:R} {p.Y:R} {p.Z:R}"));
        }
        File.WriteAllLines(tmp["points.txt"], lines);
        Directory.CreateDirectory(tmp["def"]);
        ExternalTool.Check("transformix", new[] { "-def", tmp["points.txt"], "-tp", tmp["tp.txt"], "-out", tmp["def"] }, TimeSpan.FromMinutes(2));
        var outLines = File.ReadAllLines(Path.Combine(tmp["def"], "outputpoints.txt"));
        Assert.Equal(pts.Count, outLines.Length);
        double worst = 0;
        var rx = new Regex(@"OutputPoint = \[ ([^ ]+) ([^ ]+) ([^ ]+) \]");
        for (int i = 0; i < pts.Count; i++)
        {
            var m = rx.Match(outLines[i]);
            Assert.True(m.Success, outLines[i]);
            var lps = (double.Parse(m.Groups[1].Value, Ci), double.Parse(m.Groups[2].Value, Ci), double.Parse(m.Groups[3].Value, Ci));
            var ras = (-lps.Item1, -lps.Item2, lps.Item3);
            worst = Math.Max(worst, Dist(ras, Ours(ch2.Affine, pts[i].X, pts[i].Y, pts[i].Z)));
        }
        Assert.True(worst < 0.1, $"transformix put a point {worst:0.###} mm from where our resampler samples");

        // the image: transformix resamples ch2 onto the subject grid; compare with our linear resampling
        Directory.CreateDirectory(tmp["img"]);
        ExternalTool.Check("transformix", new[] { "-in", Requirements.Ch2Path, "-tp", tmp["tp.txt"], "-out", tmp["img"] }, TimeSpan.FromMinutes(2));
        var theirs = VolumeFile.ReadVolume(Path.Combine(tmp["img"], "result.nii"));
        Assert.Equal(SubjectShape, theirs.Shape);
        Assert.True(theirs.Affine.MaxAbsDifference(SubjectAffine) < 1e-3, $"transformix wrote the grid\n{theirs.Affine}\ninstead of\n{SubjectAffine}");
        var ours = Resample.ToGrid(ch2, SubjectShape, SubjectAffine, AtlasToSubject, order: 1);
        AssertSameImage(ours, theirs, "transformix");
    }

    [RequiresFact(Requirements.Plastimatch, Requirements.Ch2)]
    public void Plastimatch_reads_the_itk_transform_file_and_maps_every_voxel_where_we_do()
    {
        using var tmp = new TempDir("xfm-itk");
        var ch2 = VolumeFile.ReadVolume(Requirements.Ch2Path);
        var xfm = tmp["sub-01_from-atlas_to-T1w_mode-image_xfm.txt"];
        ItkTransformFile.Write(AtlasToSubject, xfm);
        Assert.StartsWith("#Insight Transform File V1.0", File.ReadAllText(xfm));
        Assert.True(ItkTransformFile.ReadAtlasToSubject(xfm).MaxAbsDifference(AtlasToSubject) < 1e-9);
        var grid = tmp["subject.nii.gz"];
        VolumeFile.WriteNifti(new Volume(SubjectShape, new float[SubjectShape.Count], SubjectAffine), grid);

        // ITK's reader of our file, through plastimatch: the displacement of every subject voxel (LPS mm)
        ExternalTool.Check("plastimatch", new[] { "xf-convert", "--input", xfm, "--output", tmp["vf.nii.gz"], "--output-type", "vf", "--fixed", grid }, TimeSpan.FromMinutes(2));
        var vf = VolumeFile.Read(tmp["vf.nii.gz"]);
        Assert.Equal(3, vf.Frames);
        var d = new[] { vf.ToVolume(0), vf.ToVolume(1), vf.ToVolume(2) };
        Assert.Equal(SubjectShape, d[0].Shape);
        double worst = 0;
        for (int z = 0; z < SubjectShape.Z; z++)
            for (int y = 0; y < SubjectShape.Y; y++)
                for (int x = 0; x < SubjectShape.X; x++)
                {
                    int i = SubjectShape.Index(x, y, z);
                    var p = (Lps * SubjectAffine).Apply(x, y, z);
                    var q = (X: -(p.X + d[0].Data[i]), Y: -(p.Y + d[1].Data[i]), Z: p.Z + d[2].Data[i]);
                    worst = Math.Max(worst, Dist(q, Ours(ch2.Affine, x, y, z)));
                }
        Assert.True(worst < 0.1, $"ITK (plastimatch) maps a subject voxel {worst:0.###} mm from where our resampler samples");

        // and ch2 warped by plastimatch with our file lands where our resampler puts it
        ExternalTool.Check("plastimatch", new[] { "warp", "--input", Requirements.Ch2Path, "--xf", xfm, "--fixed", grid, "--output-img", tmp["warped.nii.gz"],
            "--interpolation", "linear", "--output-type", "float" }, TimeSpan.FromMinutes(2));
        var theirs = VolumeFile.ReadVolume(tmp["warped.nii.gz"]);
        AssertSameImage(Resample.ToGrid(ch2, SubjectShape, SubjectAffine, AtlasToSubject, order: 1), theirs, "plastimatch", quantum: 1);
    }

    /// <summary>Linear interpolation of the same image at the same points: equal up to edge voxels and rounding
    /// (<paramref name="quantum"/>: plastimatch resamples in ch2's own uint8 and truncates, so it may be up to one grey level below).</summary>
    private static void AssertSameImage(Volume ours, Volume theirs, string who, double quantum = 0)
    {
        double range = ours.Data.Max() - ours.Data.Min();
        double tol = Math.Max(quantum, 1e-3 * range);
        int inside = 0, close = 0;
        double sumAbs = 0;
        for (int i = 0; i < ours.Data.Length; i++)
        {
            if (ours.Data[i] == 0 && theirs.Data[i] == 0) continue;
            inside++;
            double e = Math.Abs(ours.Data[i] - theirs.Data[i]);
            sumAbs += e;
            if (e <= tol) close++;
        }
        Assert.True(inside > ours.Data.Length / 4, $"{who}: only {inside} voxels carry the head");
        Assert.True(close >= 0.99 * inside, $"{who}: {inside - close} of {inside} voxels differ from ours by more than {tol:G3}");
        Assert.True(sumAbs / inside < tol, $"{who}: mean |difference| {sumAbs / inside:G3} (range {range:G3})");
    }
}
