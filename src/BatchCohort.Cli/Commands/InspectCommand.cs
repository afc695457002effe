using System.CommandLine;
using System.Globalization;
using BatchCohort.Cli.Dicom;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Formats.Dicom;
using BatchCohort.Imaging.Formats.Analyze;
using BatchCohort.Imaging.Formats.Common;
using BatchCohort.Imaging.Formats.Nifti1;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Cli.Commands;

/// <summary>
/// <c>batchcohort inspect PATH</c>: what an image file holds — format, dims, spacing, datatype and scaling,
/// orientation code, the voxel-to-world affine (and where it comes from), intensity range (scaled).
/// </summary>
public sealed class InspectCommand : ICliCommand
{
    public Command Build()
    {
        var path = new Argument<string>("path") { Description = "An image: .nii, .nii.gz, .hdr/.img (Analyze 7.5 or NIfTI pair, optionally .gz), FreeSurfer .mgh/.mgz, or a DICOM file or folder." };
        var transcode = new Option<bool>("--transcode") { Description = "DICOM: report JPEG-LS / JPEG 2000 series as decodable through gdcmconv." };
        var cmd = new Command("inspect", "Show an image's dims, spacing, datatype, orientation, affine and intensity range; for DICOM, the series found (never patient names, IDs or birth dates).");
        cmd.Arguments.Add(path);
        cmd.Options.Add(transcode);
        cmd.SetAction(parse =>
        {
            var p = parse.GetValue(path)!;
            // DICOM files and folders: the series found, their geometry and transfer syntax (see Dicom/DicomInspection).
            var head = File.Exists(p) ? Head(p) : Array.Empty<byte>();
            if (new DicomFileReader().CanRead(p, head))
            {
                DicomInspection.Print(p, parse.InvocationConfiguration.Output, DicomInspection.Options(parse.GetValue(transcode), false, false, false));
                return ExitCodes.Ok;
            }
            var img = VolumeFile.Read(p);
            Print(img, p, parse.InvocationConfiguration.Output);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static byte[] Head(string path)
    {
        using var fs = File.OpenRead(path);
        var b = new byte[Math.Min(fs.Length, 1024)];
        fs.ReadExactly(b);
        return b;
    }

    internal static void Print(SpatialImage img, string path, TextWriter o)
    {
        var ci = CultureInfo.InvariantCulture;
        string G(double v) => v.ToString("0.######", ci);
        bool gz = File.Exists(path) && ImageStreams.IsGzip(path);
        string format = img.Header?.FormatName ?? (img.Format == ImageFileFormat.Mgh ? "FreeSurfer MGH" : img.Format.ToString());
        o.WriteLine($"file:        {path}");
        o.WriteLine($"format:      {format}, {(img.BigEndianOnDisk ? "big" : "little")}-endian{(gz ? ", gzip" : "")}");
        o.WriteLine($"dims:        {string.Join(" × ", img.Shape)}{(img.Frames > 1 ? $"  ({img.Frames} frames)" : "")}");
        o.WriteLine($"spacing:     {string.Join(" × ", img.Zooms.Take(3).Select(G))} mm" + (img.Zooms.Length > 3 ? $"  (dim 4: {G(img.Zooms[3])})" : ""));
        o.WriteLine($"datatype:    {img.DataType.Name()}" + (img.IsScaled ? $"  (scaled: value = raw × {G(img.Slope)} + {G(img.Inter)})" : "  (unscaled)"));
        o.WriteLine($"orientation: {img.OrientationCode}");
        o.WriteLine($"affine:      voxel → world (RAS mm), from {AffineSource(img, path)}");
        for (int r = 0; r < 4; r++)
            o.WriteLine("  " + string.Join("  ", Enumerable.Range(0, 4).Select(c => G(img.Affine[r, c] + 0.0).PadLeft(11))));
        var (min, max) = img.ScaledRange();
        o.WriteLine($"intensity:   {G(min)} .. {G(max)}");
    }

    private static string AffineSource(SpatialImage img, string path) => img.Header switch
    {
        Nifti1Header n => n.BestAffineSource switch
        {
            "sform" => $"sform (sform_code {n.SformCode} {XformName(n.SformCode)})",
            "qform" => $"qform (qform_code {n.QformCode} {XformName(n.QformCode)})",
            _ => "no qform/sform: Analyze-style default (centre of the array, x flipped)",
        },
        AnalyzeHeader a when File.Exists(SpmMatFile.PathFor(ImagePaths.ResolvePair(path).Header)) => "SPM .mat side file",
        AnalyzeHeader a when a.Origin[0] != 0 || a.Origin[1] != 0 || a.Origin[2] != 0 =>
            $"SPM origin ({a.Origin[0]}, {a.Origin[1]}, {a.Origin[2]}), x flipped (nibabel convention); orient field {a.Orient}",
        AnalyzeHeader a => $"centre of the array, x flipped (nibabel convention); orient field {a.Orient}",
        _ when img.Format == ImageFileFormat.Mgh => "the MGH header's vox2ras (direction cosines Mdc, voxel sizes, centre c_ras)",
        _ => img.Format.ToString(),
    };

    private static string XformName(short code) => code switch
    {
        1 => "scanner", 2 => "aligned", 3 => "Talairach", 4 => "MNI 152", 5 => "template", _ => "unknown",
    };
}
