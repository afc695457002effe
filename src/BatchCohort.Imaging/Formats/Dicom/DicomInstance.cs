namespace BatchCohort.Imaging.Formats.Dicom;

/// <summary>
/// What the series assembler needs from one image file: identity (series, instance numbers), the Image Plane module
/// (PS3.3 C.7.6.2: position, orientation, pixel spacing), size and frames, and where each frame lies in space.
/// Holds no patient-identifying value.
/// </summary>
public sealed class DicomInstance
{
    internal DicomInstance(string path, DicomFile? file, DicomDataset ds)
        : this(path, file, ds, file?.TransferSyntax ?? TransferSyntax.ExplicitVrLittleEndian) { }

    /// <summary>The transfer syntax is passed on its own: a scan that does not keep the parsed file (inspect) must
    /// still report the file's real syntax, not a default.</summary>
    internal DicomInstance(string path, DicomFile? file, DicomDataset ds, TransferSyntax transferSyntax)
    {
        Path = path;
        File = file;
        TransferSyntax = transferSyntax;
        SeriesInstanceUid = ds.GetString(DicomTags.SeriesInstanceUid) ?? "";
        StudyInstanceUid = ds.GetString(DicomTags.StudyInstanceUid) ?? "";
        FrameOfReferenceUid = ds.GetString(DicomTags.FrameOfReferenceUid) ?? "";
        SeriesNumber = SafeInt(ds, DicomTags.SeriesNumber);
        InstanceNumber = SafeInt(ds, DicomTags.InstanceNumber);
        AcquisitionNumber = SafeInt(ds, DicomTags.AcquisitionNumber);
        Modality = ds.GetString(DicomTags.Modality) ?? "";
        SeriesDescription = ds.GetString(DicomTags.SeriesDescription) ?? ds.GetString(DicomTags.ProtocolName) ?? "";
        ImageType = ds.GetStrings(DicomTags.ImageType) ?? Array.Empty<string>();
        Rows = ds.GetInt(DicomTags.Rows) ?? 0;
        Columns = ds.GetInt(DicomTags.Columns) ?? 0;
        var nf = ds.Contains(DicomTags.NumberOfFrames) ? ds.GetNumber(DicomTags.NumberOfFrames) : null;
        Frames = nf is > 1 and < 1_000_000 ? (int)nf.Value : 1;
        HasPixels = ds.Contains(DicomTags.PixelData);
        SamplesPerPixel = ds.GetInt(DicomTags.SamplesPerPixel) ?? 1;

        var shared = FirstItem(ds, SharedFunctionalGroups);
        var perFrame = ds.GetSequence(PerFrameFunctionalGroups);

        Orientation = Vector(ds.GetNumbers(DicomTags.ImageOrientationPatient), 6)
            ?? Vector(FirstItem(shared, PlaneOrientationSequence)?.GetNumbers(DicomTags.ImageOrientationPatient), 6)
            ?? (perFrame.Count > 0 ? Vector(FirstItem(perFrame[0], PlaneOrientationSequence)?.GetNumbers(DicomTags.ImageOrientationPatient), 6) : null);
        PixelSpacing = Vector(ds.GetNumbers(DicomTags.PixelSpacing), 2)
            ?? Vector(FirstItem(shared, PixelMeasuresSequence)?.GetNumbers(DicomTags.PixelSpacing), 2)
            ?? (perFrame.Count > 0 ? Vector(FirstItem(perFrame[0], PixelMeasuresSequence)?.GetNumbers(DicomTags.PixelSpacing), 2) : null)
            ?? Vector(ds.GetNumbers(ImagerPixelSpacing), 2);
        SliceThickness = ds.GetNumber(DicomTags.SliceThickness)
            ?? FirstItem(shared, PixelMeasuresSequence)?.GetNumber(DicomTags.SliceThickness);
        SpacingBetweenSlices = ds.GetNumber(DicomTags.SpacingBetweenSlices)
            ?? FirstItem(shared, PixelMeasuresSequence)?.GetNumber(DicomTags.SpacingBetweenSlices);
        var ipp = Vector(ds.GetNumbers(DicomTags.ImagePositionPatient), 3);

        // Where each frame lies: enhanced multi-frame (per-frame Plane Position), RT dose (GridFrameOffsetVector),
        // or the single position of a classic one-frame image.
        var positions = new double[]?[Frames];
        if (Frames > 1 && perFrame.Count == Frames)
        {
            for (int f = 0; f < Frames; f++)
                positions[f] = Vector(FirstItem(perFrame[f], PlanePositionSequence)?.GetNumbers(DicomTags.ImagePositionPatient), 3);
        }
        else if (Frames > 1 && ipp is not null && Orientation is not null && ds.GetNumbers(DicomTags.GridFrameOffsetVector) is { } offsets && offsets.Length == Frames)
        {
            var n = Geometry.Normal(Orientation);
            for (int f = 0; f < Frames; f++)
                positions[f] = new[] { ipp[0] + n[0] * offsets[f], ipp[1] + n[1] * offsets[f], ipp[2] + n[2] * offsets[f] };
        }
        else if (Frames == 1)
        {
            positions[0] = ipp ?? (perFrame.Count == 1 ? Vector(FirstItem(perFrame[0], PlanePositionSequence)?.GetNumbers(DicomTags.ImagePositionPatient), 3) : null);
        }
        FramePositions = positions;
        Mosaic = SiemensMosaic.TryRead(ds, this);
        _identifiers = IdentifyingValues(ds);
    }

    // Patient-identifying strings of this file, kept only to scrub them from text this reader shows
    // (descriptions, file names); never exposed.
    private readonly string[] _identifiers;

    private static string[] IdentifyingValues(DicomDataset ds)
    {
        var list = new List<string>();
        void Add(string? v)
        {
            if (string.IsNullOrWhiteSpace(v)) return;
            v = v.Trim();
            if (v.Length >= 2) list.Add(v);
        }
        try
        {
            var name = ds.GetString(DicomTags.PatientName);
            if (name is not null)
            {
                Add(name);
                foreach (var part in name.Split('^', '=', ' ')) if (part.Trim().Length >= 3) Add(part);
            }
            Add(ds.GetString(DicomTags.PatientId));
            Add(ds.GetString(DicomTags.PatientBirthDate));
        }
        catch (DicomFormatException)
        {
            // a malformed identifying element is not needed for anything but scrubbing
        }
        return list.OrderByDescending(x => x.Length).ToArray();
    }

    /// <summary>Replaces this file's patient name (and its components), ID and birth date in <paramref name="text"/>.</summary>
    public string Redact(string text)
    {
        foreach (var id in _identifiers)
            if (text.Contains(id, StringComparison.OrdinalIgnoreCase))
                text = text.Replace(id, "[redacted]", StringComparison.OrdinalIgnoreCase);
        return text;
    }

    internal static readonly DicomTag SharedFunctionalGroups = new(0x5200, 0x9229);
    internal static readonly DicomTag PerFrameFunctionalGroups = new(0x5200, 0x9230);
    internal static readonly DicomTag PlanePositionSequence = new(0x0020, 0x9113);
    internal static readonly DicomTag PlaneOrientationSequence = new(0x0020, 0x9116);
    internal static readonly DicomTag PixelMeasuresSequence = new(0x0028, 0x9110);
    internal static readonly DicomTag ImagerPixelSpacing = new(0x0018, 0x1164);

    public string Path { get; }

    /// <summary>The parsed file, kept when the scan was asked to keep files for loading; else null (re-read on load).</summary>
    internal DicomFile? File { get; set; }

    public TransferSyntax TransferSyntax { get; }
    public string SeriesInstanceUid { get; }
    public string StudyInstanceUid { get; }
    public string FrameOfReferenceUid { get; }
    public int? SeriesNumber { get; }
    public int? InstanceNumber { get; }
    public int? AcquisitionNumber { get; }
    public string Modality { get; }
    public string SeriesDescription { get; }
    public IReadOnlyList<string> ImageType { get; }
    public int Rows { get; }
    public int Columns { get; }
    public int Frames { get; }
    public int SamplesPerPixel { get; }
    public bool HasPixels { get; }

    /// <summary>Row direction cosines then column direction cosines (LPS), or null when absent.</summary>
    public double[]? Orientation { get; }

    /// <summary>Row spacing (between rows, mm) then column spacing, as in PixelSpacing; null when absent.</summary>
    public double[]? PixelSpacing { get; }

    public double? SliceThickness { get; }
    public double? SpacingBetweenSlices { get; }

    /// <summary>Position (LPS mm) of the first pixel of each frame, null where unknown.</summary>
    public IReadOnlyList<double[]?> FramePositions { get; }

    /// <summary>Siemens mosaic layout when this image is a mosaic with a readable CSA header, else null.</summary>
    public SiemensMosaic? Mosaic { get; }

    private static int? SafeInt(DicomDataset ds, DicomTag tag)
    {
        try
        {
            return ds.GetInt(tag);
        }
        catch (DicomFormatException)
        {
            return null; // identity numbers are only used for ordering ties and messages
        }
    }

    private static DicomDataset? FirstItem(DicomDataset? ds, DicomTag tag)
    {
        if (ds is null || !ds.Contains(tag)) return null;
        var items = ds.GetSequence(tag);
        return items.Count > 0 ? items[0] : null;
    }

    private static double[]? Vector(double[]? v, int n) => v is not null && v.Length >= n ? v[..n] : null;
}

/// <summary>Small vector helpers for DICOM patient geometry (LPS).</summary>
internal static class Geometry
{
    public static double[] Normal(double[] iop) => Cross(iop.AsSpan(0, 3), iop.AsSpan(3, 3));

    public static double[] Cross(ReadOnlySpan<double> a, ReadOnlySpan<double> b) =>
        new[] { a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0] };

    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

    public static double Norm(ReadOnlySpan<double> a) => Math.Sqrt(Dot(a, a));
}
