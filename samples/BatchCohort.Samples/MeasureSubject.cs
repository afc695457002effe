// <sample:measure-subject>
using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Formats;
using BatchCohort.Neuro.Pipeline;

public static class MeasureSubject
{
    // One subject, measured in-process: the same pure function `batchcohort participant` and every cohort run call.
    public static int Run(string t1Path, string outDir)
    {
        var t1 = VolumeFile.ReadVolume(t1Path);                     // NIfTI-1/2, Analyze 7.5 or a DICOM series folder
        var atlas = AtlasLibrary.Resolve("auto", out bool phantom); // Colin27 when mricron-data is installed, else the phantom
        var result = SubjectPipeline.Run("01", t1, atlas);           // register, segment, measure
        if (!result.Success)
        {
            Console.Error.WriteLine($"{result.FailedStep}: {result.FailureReason}");
            return 3;
        }
        var (paths, measures) = SubjectOutputs.Write(result, outDir); // masks, dseg, transform, measures, QC montage
        Console.WriteLine($"ICV {measures.IcvMl:F0} mL, eTIV {measures.EtivMl:F0} mL, brain {measures.BrainMl:F0} mL, " +
                          $"nWBV {measures.Nwbv:F3} (atlas: {(phantom ? "phantom" : "Colin27")}); QC picture {paths.QcPng}");
        return 0;
    }
}
// </sample:measure-subject>
