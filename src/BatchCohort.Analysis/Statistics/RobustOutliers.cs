using System.Globalization;
using BatchCohort.Analysis.Tables;

namespace BatchCohort.Analysis.Statistics;

/// <summary>One subject's cohort-level QC verdict.</summary>
public sealed record CohortQcRow(string SubjectId, double MaxAbsZ, IReadOnlyList<string> Reasons)
{
    public bool Flagged => Reasons.Count > 0;
}

/// <summary>
/// Cohort-level outlier scores: the robust z of Iglewicz and Hoaglin, z = 0.6745·(x − median)/MAD, for the measures a
/// gross segmentation or registration failure moves (ICV, brain/ICV ratio, ICV/eTIV); |z| above
/// <see cref="Threshold"/> (3.5, their recommendation) flags the subject. Median and MAD ignore the outliers
/// themselves, so one bad subject cannot hide another as a mean/SD z-score would. Per-subject flags (the pipeline's
/// qc_flags column) flag a subject too.
/// </summary>
public static class RobustOutliers
{
    public const double Threshold = 3.5;

    /// <summary>Measures scored (when present in the table), and ratios built from two columns.</summary>
    public static readonly string[] Measures = { "icv_ml", "brain_ml", "brain_icv_ratio" };

    public static double[] RobustZ(IReadOnlyList<double> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var finite = x.Where(double.IsFinite).OrderBy(v => v).ToArray();
        var z = new double[x.Count];
        if (finite.Length < 5) return z; // too few subjects to call anyone an outlier
        double med = Median(finite);
        var dev = finite.Select(v => Math.Abs(v - med)).OrderBy(v => v).ToArray();
        double mad = Median(dev);
        // MAD = 0 (over half the values equal): the mean absolute deviation, z = (x − median)/(1.253314·MeanAD)
        double scale = mad > 0 ? mad / 0.6745 : 1.253314 * dev.Average();
        if (!(scale > 0)) return z;
        for (int i = 0; i < x.Count; i++) z[i] = double.IsFinite(x[i]) ? (x[i] - med) / scale : 0;
        return z;
    }

    /// <summary>Scores every row of a cohort table (id column, measures, optional qc_flags and etiv_ml).</summary>
    public static IReadOnlyList<CohortQcRow> Score(Table table, string idColumn)
    {
        ArgumentNullException.ThrowIfNull(table);
        int n = table.RowCount;
        var ids = table.GetStrings(idColumn);
        var reasons = Enumerable.Range(0, n).Select(_ => new List<string>()).ToArray();
        var maxZ = new double[n];
        var series = new List<(string Name, double[] Values)>();
        foreach (var m in Measures)
            if (table.Find(m) is { IsNumeric: true } c) series.Add((m, Enumerable.Range(0, n).Select(c.GetDouble).ToArray()));
        if (table.Find("icv_ml") is { IsNumeric: true } icv && table.Find("etiv_ml") is { IsNumeric: true } etiv)
            series.Add(("icv_etiv_ratio", Enumerable.Range(0, n).Select(i => icv.GetDouble(i) / etiv.GetDouble(i)).ToArray()));
        foreach (var (name, values) in series)
        {
            var z = RobustZ(values);
            for (int i = 0; i < n; i++)
            {
                maxZ[i] = Math.Max(maxZ[i], Math.Abs(z[i]));
                if (Math.Abs(z[i]) > Threshold) reasons[i].Add(string.Create(CultureInfo.InvariantCulture, $"cohort_outlier({name} z={z[i]:+0.0;-0.0})"));
            }
        }
        if (table.Find("qc_flags") is { } flags)
            for (int i = 0; i < n; i++)
                if (!flags.IsNull(i) && flags.Format(i) is { Length: > 0 } f)
                    reasons[i].InsertRange(0, f.Split(';', StringSplitOptions.RemoveEmptyEntries));
        return Enumerable.Range(0, n).Select(i => new CohortQcRow(ids[i] ?? "", maxZ[i], reasons[i])).ToList();
    }

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}
