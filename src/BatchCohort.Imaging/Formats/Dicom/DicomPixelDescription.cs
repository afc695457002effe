using System.Globalization;

namespace BatchCohort.Imaging.Formats.Dicom;

/// <summary>
/// The Image Pixel module (PS3.3 C.7.6.3) plus modality rescale (C.11.1): what the pixel bytes mean. Built from a
/// data set with every value checked, so decoders can trust it.
/// </summary>
public sealed record DicomPixelDescription(
    int Rows,
    int Columns,
    int Frames,
    int SamplesPerPixel,
    int BitsAllocated,
    int BitsStored,
    int HighBit,
    bool Signed,
    int PlanarConfiguration,
    string Photometric,
    double RescaleSlope,
    double RescaleIntercept)
{
    public int BytesPerSample => BitsAllocated == 1 ? 0 : BitsAllocated / 8;
    public long PixelsPerFrame => (long)Rows * Columns;
    public long SamplesPerFrame => PixelsPerFrame * SamplesPerPixel;

    /// <summary>Bytes of one frame in native (uncompressed) encoding; for 1-bit data, rounded up to whole bytes.</summary>
    public long FrameBytes => BitsAllocated == 1 ? (SamplesPerFrame + 7) / 8 : SamplesPerFrame * BytesPerSample;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Columns}×{Rows}×{Frames} frames, {SamplesPerPixel} sample(s) {Photometric}, {BitsStored}/{BitsAllocated} bits {(Signed ? "signed" : "unsigned")}");

    /// <summary>Reads and validates the pixel description of a data set.</summary>
    public static DicomPixelDescription From(DicomDataset ds)
    {
        DicomFormatException Bad(string p) => new(ds.Source, p);
        int Required(DicomTag t, string name)
        {
            var v = ds.GetInt(t) ?? throw Bad($"{name} {t} is missing, so the pixel data cannot be interpreted");
            return v;
        }
        int rows = Required(DicomTags.Rows, "Rows");
        int cols = Required(DicomTags.Columns, "Columns");
        if (rows <= 0 || cols <= 0 || rows > 65535 || cols > 65535) throw Bad($"image size {cols}×{rows} (Columns×Rows) is not valid");
        int frames = 1;
        if (ds.Contains(DicomTags.NumberOfFrames))
        {
            var nf = ds.GetNumber(DicomTags.NumberOfFrames);
            if (nf is not null)
            {
                if (nf.Value != Math.Floor(nf.Value) || nf.Value < 1 || nf.Value > 1_000_000)
                    throw Bad(FormattableString.Invariant($"NumberOfFrames {nf.Value} is not valid"));
                frames = (int)nf.Value;
            }
        }
        int spp = ds.GetInt(DicomTags.SamplesPerPixel) ?? 1;
        if (spp is not (1 or 3 or 4)) throw Bad($"SamplesPerPixel {spp} is not 1, 3 or 4");
        int ba = Required(DicomTags.BitsAllocated, "BitsAllocated");
        if (ba is not (1 or 8 or 16 or 32)) throw Bad($"BitsAllocated {ba} is not supported (1, 8, 16 or 32)");
        int bs = ds.GetInt(DicomTags.BitsStored) ?? ba;
        if (bs < 1 || bs > ba) throw Bad($"BitsStored {bs} is not between 1 and BitsAllocated {ba}");
        int hb = ds.GetInt(DicomTags.HighBit) ?? bs - 1;
        if (hb < bs - 1 || hb >= ba) hb = bs - 1; // an inconsistent HighBit is common and harmless: assume the usual layout
        int pr = ds.GetInt(DicomTags.PixelRepresentation) ?? 0;
        if (pr is not (0 or 1)) throw Bad($"PixelRepresentation {pr} is not 0 (unsigned) or 1 (signed)");
        int planar = spp > 1 ? ds.GetInt(DicomTags.PlanarConfiguration) ?? 0 : 0;
        if (planar is not (0 or 1)) throw Bad($"PlanarConfiguration {planar} is not 0 or 1");
        string photometric = (ds.GetString(DicomTags.PhotometricInterpretation) ?? (spp == 1 ? "MONOCHROME2" : "RGB")).ToUpperInvariant();
        double slope = ds.GetNumber(DicomTags.RescaleSlope) ?? 1.0;
        double intercept = ds.GetNumber(DicomTags.RescaleIntercept) ?? 0.0;
        if (slope == 0) slope = 1.0; // a zero slope would erase the image; writers that put 0 mean "no rescale"
        return new DicomPixelDescription(rows, cols, frames, spp, ba, bs, hb, pr == 1, planar, photometric, slope, intercept);
    }
}
