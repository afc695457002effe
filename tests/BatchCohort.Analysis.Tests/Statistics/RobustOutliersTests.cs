using System.Globalization;
using BatchCohort.Analysis.Statistics;
using BatchCohort.Analysis.Tables;
using BatchCohort.TestSupport;

namespace BatchCohort.Analysis.Tests.Statistics;

/// <summary>Cohort robust outlier scores against numpy's median/MAD and planted failures.</summary>
public class RobustOutliersTests
{
    [RequiresFact(Requirements.Scipy)]
    public void Robust_z_matches_numpy_median_and_mad()
    {
        var rng = new Random(11);
        var x = Enumerable.Range(0, 40).Select(_ => 1500 + 120 * (rng.NextDouble() - 0.5)).ToList();
        x[7] = 2450; // a boundary run into the scalp
        var ours = RobustOutliers.RobustZ(x);
        var arg = string.Join(",", x.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        var py = ExternalTool.Check(Requirements.Python, new[] { "-c",
            "import sys, numpy as np; x=np.array([float(v) for v in sys.argv[1].split(',')]); m=np.median(x); mad=np.median(np.abs(x-m));" +
            "print(' '.join(repr(float(v)) for v in 0.6745*(x-m)/mad))", arg });
        var theirs = py.Trim().Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(theirs.Length, ours.Length);
        for (int i = 0; i < ours.Length; i++) Assert.Equal(theirs[i], ours[i], 9);
        Assert.True(Math.Abs(ours[7]) > RobustOutliers.Threshold);
        Assert.Equal(1, ours.Count(z => Math.Abs(z) > RobustOutliers.Threshold));
    }

    [Fact]
    public void Score_flags_cohort_outliers_and_per_subject_flags_with_reasons()
    {
        int n = 12;
        var ids = Enumerable.Range(1, n).Select(i => $"sub-{i:D2}").ToArray();
        var icv = Enumerable.Range(0, n).Select(i => 1450.0 + 10 * i).ToArray();
        var brain = icv.Select(v => 0.75 * v).ToArray();
        icv[3] = 2500; // ICV twice the brain's envelope
        var flags = new string?[n];
        for (int i = 0; i < n; i++) flags[i] = "";
        flags[9] = "registration_similarity_low(0.12)";
        var t = new Table(new Column[] { new StringColumn("participant_id", ids), new DoubleColumn("icv_ml", icv), new DoubleColumn("brain_ml", brain), new StringColumn("qc_flags", flags) });
        var rows = RobustOutliers.Score(t, "participant_id");
        var flagged = rows.Where(r => r.Flagged).Select(r => r.SubjectId).ToArray();
        Assert.Equal(new[] { "sub-04", "sub-10" }, flagged);
        Assert.Contains(rows[3].Reasons, r => r.StartsWith("cohort_outlier(icv_ml", StringComparison.Ordinal));
        Assert.Equal("registration_similarity_low(0.12)", rows[9].Reasons.Single());
    }
}
