using BatchCohort.Imaging.Formats;
using System.CommandLine;
using System.Globalization;
using BatchCohort.Analysis.Tables;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Neuro.Measurement;
using BatchCohort.Neuro.Pipeline;

namespace BatchCohort.Cli.Commands;

/// <summary>
/// <c>batchcohort participant INPUT [--atlas colin27|phantom|DIR] [--id ID] --out DIR</c>: one subject end to end
/// (NIfTI, Analyze, FreeSurfer MGH/MGZ or a DICOM folder) → masks, tissue labels, transform (4×4 and ITK), measures (CSV
/// and Parquet) and QC picture under DIR/sub-ID/anat.
/// </summary>
public sealed class ParticipantCommand : ICliCommand
{
    public Command Build()
    {
        var input = new Argument<string>("input") { Description = "The subject's T1 image: .nii, .nii.gz, .hdr/.img (NIfTI pair or Analyze 7.5), FreeSurfer .mgz/.mgh, or a DICOM file/folder." };
        var atlas = new Option<string?>("--atlas") { Description = "Atlas: colin27 (default when /usr/share/mricron/templates has it), phantom, or a folder/manifest of template files." };
        var id = new Option<string?>("--id") { Description = "Subject id for the outputs (default: from the file name)." };
        var output = new Option<string>("--out") { Description = "Output folder (BIDS-derivatives layout).", Required = true };
        var cmd = new Command("participant", "Measure one subject: register the atlas, segment head / intracranial space / brain / tissues, write measures and QC.")
        {
            input, atlas, id, output,
        };
        cmd.SetAction(parse =>
        {
            var o = parse.InvocationConfiguration.Output;
            string path = parse.GetValue(input)!;
            string outDir = parse.GetValue(output)!;
            string subjectId = parse.GetValue(id) ?? SubjectIdFromPath(path);
            var a = AtlasLibrary.Resolve(parse.GetValue(atlas), out bool fellBack);
            if (fellBack) o.WriteLine($"note: Colin27 is not installed (apt-get install mricron-data); using the built-in phantom atlas");
            var result = SubjectPipeline.Run(subjectId, path, a);
            if (!result.Success)
            {
                parse.InvocationConfiguration.Error.WriteLine($"batchcohort: subject {subjectId} failed at {result.FailedStep}: {result.FailureReason}");
                return ExitCodes.SomeFailed;
            }
            var (paths, m) = SubjectOutputs.Write(result, outDir);
            var parquet = WriteParquet(m, paths);
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sub-{subjectId}: ICV {m.IcvMl:F1} mL, eTIV {m.EtivMl:F1} mL, ASF {m.Asf:F3}, brain {m.BrainMl:F1} mL (GM {m.GmMl:F1}, WM {m.WmMl:F1}), CSF {m.CsfMl:F1} mL, nWBV {m.Nwbv:F3}"));
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  steps: load {m.TimeLoadS:F2} s, register {m.TimeRegisterS:F2} s, segment {m.TimeSegmentS:F2} s, measure {m.TimeMeasureS:F2} s, write {m.TimeWriteS:F2} s"));
            if (m.QcFlags.Length > 0) o.WriteLine($"  QC flags: {m.QcFlags}");
            o.WriteLine($"  wrote {paths.AnatDir} (measures: {Path.GetFileName(paths.MeasuresCsv)}, {Path.GetFileName(parquet)}; transform: {Path.GetFileName(paths.ItkTransform)})");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>
    /// The measures row as a one-row Parquet table beside the CSV (sub-&lt;id&gt;_measures.parquet): participant_id in BIDS
    /// form first, then the CSV's columns (the same names and values; subject_id keeps the id as given).
    /// </summary>
    internal static string WriteParquet(SubjectMeasures m, SubjectOutputPaths paths)
    {
        var row = new Dictionary<string, object?>(StringComparer.Ordinal) { ["participant_id"] = "sub-" + (m.SubjectId.StartsWith("sub-", StringComparison.Ordinal) ? m.SubjectId[4..] : m.SubjectId) };
        foreach (var (name, value) in m.Columns()) row[name] = value;
        var path = Path.Combine(paths.AnatDir, Path.GetFileName(paths.MeasuresCsv).Replace("_measures.csv", "_measures.parquet", StringComparison.Ordinal));
        AtomicFile.WriteVia(path, tmp => TableFile.Write(Table.FromRows(new[] { (IReadOnlyDictionary<string, object?>)row }), tmp));
        return path;
    }

    /// <summary>"OAS1_0001_MR1_mpr-1_anon.hdr" → "OAS10001MR1mpr1anon"; BIDS labels are alphanumeric.</summary>
    internal static string SubjectIdFromPath(string path)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        foreach (var ext in new[] { ".nii.gz", ".img.gz", ".mgh.gz", ".nii", ".hdr", ".img", ".mgz", ".mgh", ".dcm" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) { name = name[..^ext.Length]; break; }
        if (name.StartsWith("sub-", StringComparison.Ordinal)) name = name[4..];
        int us = name.IndexOf("_T1w", StringComparison.Ordinal);
        if (us > 0) name = name[..us];
        var label = new string(name.Where(char.IsAsciiLetterOrDigit).ToArray());
        return label.Length > 0 ? label : "01";
    }
}
