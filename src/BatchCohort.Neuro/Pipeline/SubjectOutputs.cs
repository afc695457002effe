using System.Diagnostics;
using System.Globalization;
using BatchCohort.Imaging.Formats;
using BatchCohort.Imaging.Qc;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Neuro.Pipeline;

/// <summary>Paths of one subject's derivatives (BIDS-derivatives flavoured, DESIGN.md's layout).</summary>
/// <remarks><see cref="Transform"/> is BatchCohort's own 4×4 (atlas → subject, RAS); <see cref="ItkTransform"/> the
/// same transform as an ITK transform file for ITK, ANTs, 3D Slicer and plastimatch (see <see cref="BatchCohort.Imaging.Formats.Transforms.ItkTransformFile"/>).</remarks>
public sealed record SubjectOutputPaths(string AnatDir, string BrainMask, string IcvMask, string HeadMask, string Dseg, string Transform, string MeasuresCsv, string QcPng,
    string ItkTransform)
{
    /// <summary>&lt;outRoot&gt;/sub-&lt;label&gt;/anat/sub-&lt;label&gt;_…</summary>
    public static SubjectOutputPaths For(string outRoot, string subjectId)
    {
        string label = subjectId.StartsWith("sub-", StringComparison.Ordinal) ? subjectId[4..] : subjectId;
        return InFolder(Path.Combine(outRoot, "sub-" + label, "anat"), "sub-" + label);
    }

    /// <summary>Files named &lt;filePrefix&gt;_… in a given folder (the runtime decides the folder).</summary>
    public static SubjectOutputPaths InFolder(string anatDir, string filePrefix)
    {
        string p(string suffix) => Path.Combine(anatDir, $"{filePrefix}_{suffix}");
        return new(anatDir, p("desc-brain_mask.nii.gz"), p("desc-icv_mask.nii.gz"), p("desc-head_mask.nii.gz"), p("dseg.nii.gz"),
            p("xfm.txt"), p("measures.csv"), p("qc.png"), p("from-atlas_to-T1w_mode-image_xfm.txt"));
    }
}

/// <summary>
/// Writes one subject's derivatives: masks and tissue labels as NIfTI on the INPUT's voxel grid (so they overlay the
/// original file in any viewer), the atlas→subject transform as text (our 4×4 and an ITK transform file), the measures row as CSV and a QC montage with
/// the intracranial (cyan) and brain (yellow) outlines. Each file is written to a temporary name and renamed, so a
/// crash never leaves a half-written derivative that a re-run would mistake for a finished one.
/// </summary>
public static class SubjectOutputs
{
    /// <summary>Writes under &lt;outRoot&gt;/sub-&lt;id&gt;/anat; returns the paths and the measures row with its write time.</summary>
    public static (SubjectOutputPaths Paths, Measurement.SubjectMeasures Measures) Write(SubjectResult result, string outRoot) =>
        Write(result, SubjectOutputPaths.For(outRoot, result.SubjectId));

    public static (SubjectOutputPaths Paths, Measurement.SubjectMeasures Measures) Write(SubjectResult result, SubjectOutputPaths paths)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!result.Success) throw new InvalidOperationException($"subject {result.SubjectId} failed ({result.FailureReason}); it has no derivatives to write");
        var sw = Stopwatch.StartNew();
        Directory.CreateDirectory(paths.AnatDir);
        var back = result.ToCanonical!;
        Volume native(Volume canonical) => back.Invert(canonical);
        // The four volumes and the QC picture are independent files: written side by side (each is compressed on one
        // core; the bytes do not depend on the order).
        var jobs = new Action[]
        {
            () => AtomicFile.WriteVia(paths.BrainMask, tmp => VolumeFile.WriteNifti(native(result.Brain!.ToVolume()), tmp, VoxelType.UInt8)),
            () => AtomicFile.WriteVia(paths.IcvMask, tmp => VolumeFile.WriteNifti(native(result.Intracranial!.ToVolume()), tmp, VoxelType.UInt8)),
            () => AtomicFile.WriteVia(paths.HeadMask, tmp => VolumeFile.WriteNifti(native(result.Head!.ToVolume()), tmp, VoxelType.UInt8)),
            () =>
            {
                var dseg = result.Subject!.WithData(Array.ConvertAll(result.Tissue!, b => (float)b));
                AtomicFile.WriteVia(paths.Dseg, tmp => VolumeFile.WriteNifti(native(dseg), tmp, VoxelType.UInt8));
            },
            () =>
            {
                var qc = Snapshot.Render(result.Subject!, new[]
                {
                    new SnapshotOverlay(result.Intracranial!.ToVolume(), (0, 220, 255), "ICV"),
                    new SnapshotOverlay(result.Brain!.ToVolume(), (255, 220, 0), "brain"),
                }, new SnapshotOptions { Title = FormattableString.Invariant($"sub-{result.SubjectId}  ICV {result.Measures!.IcvMl:0} mL  brain {result.Measures.BrainMl:0} mL  nWBV {result.Measures.Nwbv:0.000}") });
                AtomicFile.WriteVia(paths.QcPng, tmp => qc.Image.WritePng(tmp));
            },
        };
        BatchCohort.Imaging.Processing.Parallelism.For(0, jobs.Length, i => jobs[i]());
        AtomicFile.WriteVia(paths.Transform, tmp => File.WriteAllText(tmp,
            "# BatchCohort atlas->subject affine, world RAS millimetres (x_subject = A * x_atlas), row-major 4x4\n" +
            result.AtlasToSubject + "\n"));
        AtomicFile.WriteVia(paths.ItkTransform, tmp => BatchCohort.Imaging.Formats.Transforms.ItkTransformFile.Write(result.AtlasToSubject!, tmp));
        double tWrite = sw.Elapsed.TotalSeconds;
        var m = result.Measures! with { TimeWriteS = tWrite, TimeTotalS = result.Measures.TimeTotalS + tWrite };
        AtomicFile.WriteVia(paths.MeasuresCsv, tmp => File.WriteAllText(tmp, m.ToCsv()));
        return (paths, m);
    }

}
