using System.CommandLine;
using System.Globalization;
using BatchCohort.Cli.Dicom;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Formats.Dicom;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Cli.Commands;

/// <summary>
/// <c>batchcohort convert INPUT OUTPUT</c>: reads any image BatchCohort reads (a DICOM folder or file, NIfTI,
/// Analyze) and writes it by the output's name (.nii/.nii.gz → NIfTI-1, .hdr/.img → Analyze 7.5).
/// </summary>
public sealed class ConvertCommand : ICliCommand
{
    public Command Build()
    {
        var input = new Argument<string>("input") { Description = "A DICOM series folder or file, .nii/.nii.gz, .hdr/.img, or FreeSurfer .mgz/.mgh." };
        var output = new Argument<string>("output") { Description = "Output file: .nii, .nii.gz, .hdr/.img, or FreeSurfer .mgz/.mgh (uint8, int16, int32 or float32; no scale factor)." };
        var series = new Option<string?>("--series") { Description = "SeriesInstanceUID to convert when a DICOM folder holds several series." };
        var datatype = new Option<string>("--datatype") { Description = "Output voxel type: auto (int16 when every value is an int16 integer, else float32), int16, uint8, uint16, int32, float32.", DefaultValueFactory = _ => "auto" };
        var transcode = new Option<bool>("--transcode") { Description = "Decode JPEG-LS / JPEG 2000 DICOM through GDCM's 'gdcmconv --raw' (must be on PATH)." };
        var irregular = new Option<bool>("--allow-irregular-spacing") { Description = "Assemble a DICOM series with missing or unevenly spaced slices on its median spacing (with a warning) instead of refusing it." };
        var firstGap = new Option<bool>("--first-gap-spacing") { Description = "Take the slice spacing from the first two slices (as dcm2niix and ITK do) instead of from the first and last." };
        var luminance = new Option<bool>("--luminance") { Description = "Convert colour DICOM images to luminance instead of refusing them." };
        var cmd = new Command("convert", "Convert an image (e.g. a DICOM series folder) to NIfTI-1, Analyze 7.5 or FreeSurfer MGH/MGZ.");
        cmd.Arguments.Add(input);
        cmd.Arguments.Add(output);
        foreach (var o in new Option[] { series, datatype, transcode, irregular, firstGap, luminance }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var inPath = parse.GetValue(input)!;
            var outPath = parse.GetValue(output)!;
            var type = ParseType(parse.GetValue(datatype)!);
            var o = parse.InvocationConfiguration.Output;
            if (parse.GetValue(transcode) && GdcmconvTranscoder.FindOnPath() is null)
                throw new ArgumentException("--transcode needs gdcmconv on PATH (Debian: apt-get install libgdcm-tools)");
            var options = DicomInspection.Options(parse.GetValue(transcode), parse.GetValue(irregular), parse.GetValue(firstGap), parse.GetValue(luminance));
            var dicom = new DicomFileReader(options);
            bool isDicom = dicom.CanRead(inPath, File.Exists(inPath) ? Head(inPath) : Array.Empty<byte>());
            if (isDicom)
            {
                var scan = DicomSeriesReader.Scan(inPath, options, keepFiles: true);
                var stack = DicomSeriesReader.SelectStackAllowingVolumes(scan, parse.GetValue(series));
                foreach (var w in stack.Warnings) o.WriteLine(scan.Redact($"warning: {w}"));
                if (stack.VolumeCount == 1)
                {
                    var vol = stack.Load();
                    var t = type ?? AutoType(vol);
                    VolumeFile.Write(vol, outPath, t);
                    o.WriteLine(scan.Redact(FormattableString.Invariant($"wrote {outPath}: {vol.Shape} voxels @ {vol.Spacing}, {vol.OrientationCode}, {t.Name()}")));
                }
                else
                {
                    var img = dicom.Read(inPath);
                    VolumeFile.Write(img, outPath);
                    o.WriteLine(scan.Redact(FormattableString.Invariant($"wrote {outPath}: {stack.Shape} × {stack.VolumeCount} volumes, float32")));
                }
                return ExitCodes.Ok;
            }
            var image = VolumeFile.Read(inPath);
            if (image.Frames == 1 && type is not null)
            {
                VolumeFile.Write(image.ToVolume(), outPath, type.Value);
            }
            else VolumeFile.Write(image, outPath);
            o.WriteLine($"wrote {outPath}: {string.Join("×", image.Shape)}, {(type ?? image.DataType).Name()}");
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

    private static VoxelType? ParseType(string s) => s.ToLowerInvariant() switch
    {
        "auto" => null,
        "uint8" => VoxelType.UInt8,
        "int16" => VoxelType.Int16,
        "uint16" => VoxelType.UInt16,
        "int32" => VoxelType.Int32,
        "float32" => VoxelType.Float32,
        _ => throw new ArgumentException($"--datatype '{s}' is not one of auto, uint8, int16, uint16, int32, float32"),
    };

    /// <summary>int16 when every voxel is an integer in int16's range (DICOM MR/CT usually are), else float32.</summary>
    private static VoxelType AutoType(Volume v)
    {
        foreach (var x in v.Data)
            if (x != MathF.Round(x) || x < short.MinValue || x > short.MaxValue) return VoxelType.Float32;
        return VoxelType.Int16;
    }
}
