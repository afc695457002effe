using System.Globalization;
using BatchCohort.Imaging.Formats.Dicom;

namespace BatchCohort.Cli.Dicom;

/// <summary>
/// What <c>batchcohort inspect</c> prints for a DICOM file or folder: the series found, each stack's dims, spacing,
/// orientation, transfer syntax and warnings, and how many files were skipped. Never a patient name, ID or birth
/// date: the reader does not keep them, and every printed line is scrubbed of the scanned files' identifying
/// values (a description or folder name that repeats them shows "[redacted]").
/// </summary>
internal static class DicomInspection
{
    public static DicomReadOptions Options(bool transcode, bool allowIrregular, bool firstGap, bool luminance) => new()
    {
        Transcoder = transcode ? GdcmconvTranscoder.TryCreate() : null,
        AllowIrregularSpacing = allowIrregular,
        SliceSpacing = firstGap ? SliceSpacingEstimate.FirstGap : SliceSpacingEstimate.FirstToLast,
        Color = luminance ? ColorHandling.Luminance : ColorHandling.Reject,
    };

    public static void Print(string path, TextWriter o, DicomReadOptions options)
    {
        var scan = DicomSeriesReader.Scan(path, options, keepFiles: false);
        var ci = CultureInfo.InvariantCulture;
        string G(double v) => v.ToString("0.######", ci);
        void Line(string s) => o.WriteLine(scan.Redact(s));
        string Rel(string file)
        {
            var r = Directory.Exists(path) ? Path.GetRelativePath(path, file) : Path.GetFileName(file);
            return r;
        }

        int images = scan.Series.Sum(s => s.Instances.Count);
        Line($"path:        {path}");
        Line($"format:      DICOM, {images} image file(s) in {scan.Series.Count} series" +
             (scan.Skipped.Count > 0 ? $", {scan.Skipped.Count} other file(s) skipped" : ""));
        int si = 0;
        foreach (var s in scan.Series)
        {
            si++;
            var first = s.Instances[0];
            Line($"series {si}:    number {s.SeriesNumber?.ToString(ci) ?? "-"}, '{s.Description}', {s.Modality}, {s.Instances.Count} file(s)");
            Line($"  uid:       {s.SeriesInstanceUid}");
            var syntaxes = s.Instances.Select(i => i.TransferSyntax).DistinctBy(t => t.Uid).ToList();
            Line($"  transfer syntax: {string.Join("; ", syntaxes.Select(t => t.ToString()))}" +
                 (syntaxes.Any(t => !DicomPixelData.IsNativelyDecoded(t.Encoding))
                     ? options.Transcoder is null ? "  (not decoded natively: use --transcode with gdcmconv)" : $"  (decoded through {options.Transcoder.Name})"
                     : ""));
            if (first.Mosaic is { } m)
                Line($"  mosaic:    Siemens mosaic, {m.NumberOfImages} slices of {m.TileColumns}×{m.TileRows} per image");
            int k = 0;
            foreach (var st in s.Stacks)
            {
                k++;
                string prefix = s.Stacks.Count > 1 ? $"  stack {k}:   " : "  ";
                Line($"{prefix}dims:      {st.Shape.X} × {st.Shape.Y} × {st.Shape.Z}" + (st.VolumeCount > 1 ? $" × {st.VolumeCount} volumes" : "") + $"  ({st.Slices.Count} slice(s))");
                Line($"{prefix}spacing:   {G(st.Spacing.X)} × {G(st.Spacing.Y)} × {G(st.Spacing.Z)} mm" + (first.Mosaic is not null ? "  (mosaic: SpacingBetweenSlices along the CSA slice normal)"
                    : st.PositionsKnown ? "  (slice spacing from ImagePositionPatient)" : "  (positions unknown)"));
                // the stack's own ImageOrientationPatient: stacks of one series differ exactly in it
                Line($"{prefix}orientation: {st.OrientationCode}" + (st.First.Orientation is { } iop
                    ? $"  (ImageOrientationPatient {string.Join("\\", iop.Select(v => G(v)))})" : ""));
                Line($"{prefix}affine:    voxel → world (RAS mm)");
                for (int r = 0; r < 4; r++)
                    Line("    " + string.Join("  ", Enumerable.Range(0, 4).Select(c => G(st.Affine[r, c] + 0.0).PadLeft(11))));
                foreach (var w in st.Warnings) Line($"{prefix}warning:   {w}");
                foreach (var p in st.Problems) Line($"{prefix}problem:   {p}");
            }
        }
        const int maxSkipped = 10;
        foreach (var (file, reason) in scan.Skipped.Take(maxSkipped)) Line($"skipped:     {Rel(file)}: {reason}");
        if (scan.Skipped.Count > maxSkipped) Line($"skipped:     … and {scan.Skipped.Count - maxSkipped} more");
    }
}
