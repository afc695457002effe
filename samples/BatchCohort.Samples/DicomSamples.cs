using BatchCohort.Imaging.Formats.Dicom;
using BatchCohort.Imaging.Volumes;

public static class DicomSamples
{
    public static void Read(string seriesInstanceUid)
    {
        // <sample:dicom>
        Volume v = DicomSeriesReader.ReadVolume("dicom/sub-01");              // one series, one geometry → RAS volume
        DicomScan scan = DicomSeriesReader.Scan("dicom/");                     // every series, stack, warning, skipped file
        DicomStack st = DicomSeriesReader.SelectStack(scan, seriesInstanceUid); // or iterate scan.Series[i].Stacks
        var px = DicomPixelData.From(DicomFile.Open("x.dcm"), new DicomReadOptions { Transcoder = GdcmconvTranscoder.TryCreate() });
        float[] modality = px.DecodeFrames();      // slope·stored + intercept (HU for CT), frame after frame
        double[] stored = px.DecodeStoredValues(); // BitsStored-masked, sign-extended stored values, samples interleaved
        // </sample:dicom>
        GC.KeepAlive((v, st, modality, stored));
    }
}
