using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Processing.Geometry;
using BatchCohort.Imaging.Registration;
using BatchCohort.Imaging.Volumes;

public static class RegistrationSamples
{
    public static void Register(Atlas colin, IEnumerable<string> subjectFiles)
    {
        // <sample:register>
        var settings = AffineRegistrationSettings.Default with { Metric = RegistrationMetric.NormalizedCrossCorrelation };
        var prepared = RegistrationAtlas.Prepare(colin.Head, colin.HeadMask, colin.IcvMask, settings); // once per cohort
        foreach (var file in subjectFiles)
        {
            var reg = AffineRegistration.Register(prepared, VolumeFile.ReadVolume(file), settings);
            if (!reg.Success) { Console.Error.WriteLine($"{file}: {reg.FailureReason}"); continue; }
            Console.WriteLine($"{file}: ASF {reg.Asf:F3}, eTIV {reg.EtivMl:F0} mL, MI/NCC {reg.FinalSimilarity:F3}");
        }
        // </sample:register>
    }

    public static void Geometry(Volume vol, Volume atlasMask, Volume subject, AffineRegistrationResult reg)
    {
        // <sample:geometry>
        var rotated = Interpolation.Rotate(vol, 15, 1, 0, order: 3);                  // ndi.rotate(a, 15, reshape=False)
        var onSubj  = Resample.ToGrid(atlasMask, subject, reg.AtlasToSubject, order: 1);
        // </sample:geometry>
        GC.KeepAlive((rotated, onSubj));
    }
}
