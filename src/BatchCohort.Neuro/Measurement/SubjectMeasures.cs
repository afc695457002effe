using System.Globalization;
using System.Text;
using BatchCohort.Neuro.Qc;

namespace BatchCohort.Neuro.Measurement;

/// <summary>
/// One subject's measures: the row the cohort table is built from. Volumes in mL. Column names (snake_case) are
/// those of the cohort table and of OASIS where OASIS has one (eTIV, ASF, nWBV).
/// </summary>
public sealed record SubjectMeasures
{
    public required string SubjectId { get; init; }
    /// <summary>Head (everything above background, filled) in mL.</summary>
    public double HeadMl { get; init; }
    /// <summary>Intracranial volume measured on the subject (the "skull volume" of the OASIS course table).</summary>
    public double IcvMl { get; init; }
    /// <summary>Estimated total intracranial volume, OASIS style: atlas ICV / ASF.</summary>
    public double EtivMl { get; init; }
    /// <summary>Atlas scaling factor: determinant of the subject→atlas linear transform (eTIV × ASF is constant).</summary>
    public double Asf { get; init; }
    /// <summary>Brain parenchyma, grey + white matter.</summary>
    public double BrainMl { get; init; }
    public double GmMl { get; init; }
    public double WmMl { get; init; }
    public double CsfMl { get; init; }
    /// <summary>Normalised whole-brain volume, OASIS definition: brain / eTIV.</summary>
    public double Nwbv { get; init; }
    /// <summary>Brain / measured intracranial volume (the course's normalisation).</summary>
    public double BrainIcvRatio { get; init; }
    /// <summary>Final registration similarity (the registration metric: Mattes mutual information by default).</summary>
    public double QcSimilarity { get; init; }
    /// <summary>Dice of the atlas brain mask carried to the subject against the refined brain mask.</summary>
    public double QcAtlasDice { get; init; }
    /// <summary>True when the atlas→subject transform mirrors (the file's header did not say how its voxels are stored,
    /// as with Analyze): volumes are unaffected, left and right are unknown.</summary>
    public bool QcMirrored { get; init; }
    /// <summary>Fraction of the ICV surface where brain runs on into bright voxels outside it (<see cref="Qc.QcChecks.BrainCutFraction"/>).</summary>
    public double QcBrainCut { get; init; }
    /// <summary>(WM − GM)/WM of the tissue classes' centres.</summary>
    public double QcGreyWhiteContrast { get; init; }
    /// <summary>Dice of the atlas white matter carried to the subject against the white matter found in the image: where
    /// the tissues lie, not only where the brain's envelope is (a scrambled or non-head object has chance-level overlap).</summary>
    public double QcWhiteMatterDice { get; init; }
    /// <summary>Mean depth inside the ICV of white over grey matter (<see cref="Qc.QcChecks.WhiteMatterDepthRatio"/>).</summary>
    public double QcWhiteMatterDepthRatio { get; init; }
    /// <summary>How clearly the registration's metric tells the found orientation from the gross alternatives
    /// (<see cref="BatchCohort.Imaging.Registration.AffineRegistrationResult.OrientationMargin"/>).</summary>
    public double QcOrientationMargin { get; init; }
    /// <summary>Plausibility flags, ';'-separated (empty when none); <see cref="Qc.QcChecks"/>.</summary>
    public string QcFlags { get; init; } = "";
    public double TimeLoadS { get; init; }
    public double TimeRegisterS { get; init; }
    public double TimeSegmentS { get; init; }
    public double TimeMeasureS { get; init; }
    public double TimeWriteS { get; init; }
    public double TimeTotalS { get; init; }
    public required string PipelineVersion { get; init; }

    /// <summary>Column names and values in table order, for CSV/Parquet writers in other layers.</summary>
    public IReadOnlyList<(string Name, object Value)> Columns() => new (string, object)[]
    {
        ("subject_id", SubjectId), ("head_ml", HeadMl), ("icv_ml", IcvMl), ("etiv_ml", EtivMl), ("asf", Asf),
        ("brain_ml", BrainMl), ("gm_ml", GmMl), ("wm_ml", WmMl), ("csf_ml", CsfMl), ("nwbv", Nwbv),
        ("brain_icv_ratio", BrainIcvRatio), ("qc_similarity", QcSimilarity), ("qc_atlas_dice", QcAtlasDice), ("qc_brain_cut", QcBrainCut), ("qc_gw_contrast", QcGreyWhiteContrast), ("qc_wm_dice", QcWhiteMatterDice), ("qc_wm_depth_ratio", QcWhiteMatterDepthRatio), ("qc_orientation_margin", QcOrientationMargin),
        ("qc_flags", QcFlags), ("t_load_s", TimeLoadS), ("t_register_s", TimeRegisterS), ("t_segment_s", TimeSegmentS),
        ("t_measure_s", TimeMeasureS), ("t_write_s", TimeWriteS), ("t_total_s", TimeTotalS), ("pipeline_version", PipelineVersion),
    };

    /// <summary>Header line + one row, comma-separated, invariant culture, 6 significant decimals for volumes.</summary>
    public string ToCsv()
    {
        var cols = Columns();
        var sb = new StringBuilder();
        sb.AppendJoin(',', cols.Select(c => c.Name)).Append('\n');
        sb.AppendJoin(',', cols.Select(c => c.Value switch
        {
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            string s => Quote(s),
            _ => Convert.ToString(c.Value, CultureInfo.InvariantCulture),
        })).Append('\n');
        return sb.ToString();
    }

    private static string Quote(string s) => s.IndexOfAny(new[] { ',', '"', '\n' }) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
