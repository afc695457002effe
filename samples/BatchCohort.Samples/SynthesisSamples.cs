using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Qc;
using BatchCohort.Neuro.Synthesis;

public static class SynthesisSamples
{
    public static void Cohort()
    {
        // <sample:synth>
        var atlas = AtlasLibrary.Resolve("auto", out _);                    // Colin27, or the phantom
        var options = new SynthOptions { Subjects = 6, Seed = 7, Format = SynthFormat.Nifti, PatientEffect = 0.06, WriteTruthLabels = true };
        foreach (var s in CohortSynthesizer.Run(atlas, options, "synth7"))   // images, participants.tsv, truth.tsv
            Console.WriteLine($"{s.Plan.Id} {s.Plan.Group} age {s.Plan.Age:F0}: true ICV {s.Truth.IntracranialMl:F0} mL, ASF {s.Asf:F3}");

        var t1 = VolumeFile.ReadVolume("synth7/sub-0001/anat/sub-0001_T1w.nii.gz");
        var dseg = VolumeFile.ReadVolume("synth7/derivatives/truth/sub-0001/anat/sub-0001_dseg.nii.gz");
        Snapshot.Render(t1, new[] { new SnapshotOverlay(dseg, Name: "truth") }).Image.WritePng("sub-0001.png");
        // </sample:synth>
    }
}
