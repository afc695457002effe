using System.Globalization;
using BatchCohort.Analysis.Tables;
using BatchCohort.Host;
using BatchCohort.Runtime.Coordination;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Coordination;

/// <summary>
/// Issue 12: one grossly broken subject among normal ones is caught by the cohort's robust outlier score (no per-subject
/// flag: only the cohort sees it), listed first in the report, and with <c>"exclude": "flagged"</c> left out of the
/// statistics: the statistics then equal those of the same cohort without that subject at all.
/// </summary>
public class GroupStageQcTests
{
    /// <summary>Nine subjects; sub-05's value makes its ICV 500 mL where the others have 1430–1691 mL (the test measurer
    /// gives icv = 1400 + 3v, brain = 1000 + 2v and flags only v &gt; 100, so the cohort score is the only catch).</summary>
    private static void WriteCohort(TempDir d, bool exclude, bool withoutBroken = false)
    {
        TestInputs.WriteCohort(d.FullName, 9, extraManifest: exclude ? ",\n  \"exclude\": \"flagged\"" : null);
        var broken = d["data/sub-05_T1w.nii"];
        if (withoutBroken)
        {
            File.Delete(broken);
            File.WriteAllLines(d["data/participants.tsv"], File.ReadAllLines(d["data/participants.tsv"]).Where(l => !l.StartsWith("sub-05", StringComparison.Ordinal)));
        }
        else File.WriteAllText(broken, $"{CountingTestMeasurer.Magic}\n-300\n");
    }

    private static Table Qc(TempDir d) => CsvTable.Read(d["out/group/qc.csv"]);

    [Fact]
    public async Task One_broken_subject_is_flagged_by_the_cohort_score_and_kept_unless_excluded()
    {
        using var d = new TempDir("group-qc");
        WriteCohort(d, exclude: false);
        var o = await new CohortRunner(new CountingTestMeasurer(null, 0, "p1")).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });
        var qc = Qc(d);
        var ids = qc.GetStrings("participant_id");
        var status = qc.GetStrings("qc_status");
        var reasons = qc.GetStrings("qc_reasons");
        int b = Array.IndexOf(ids.ToArray(), "sub-05");
        Assert.Equal("flagged", status[b]);
        Assert.Contains("cohort_outlier(icv_ml z=-", reasons[b]);
        Assert.True(qc.GetDoubles("qc_robust_z")[b] > 3.5);
        Assert.Equal(8, status.Count(s => s == "ok"));
        Assert.Equal(9, o.Group!.Stats!.Data.RowCount);   // kept in the statistics
        Assert.Contains(o.Group.Notes, n => n.Contains("1 subject flagged by QC (kept in the statistics") && n.Contains("sub-05"));
        // listed first: the flagged section (with sub-05 and its picture) comes before the statistics
        var html = File.ReadAllText(d["out/group/report.html"]);
        int flagged = html.IndexOf("id=\"flagged\"", StringComparison.Ordinal);
        Assert.True(flagged >= 0, "no flagged section in the report");
        Assert.True(html.IndexOf("sub-05", StringComparison.Ordinal) > flagged);
        Assert.True(flagged < html.IndexOf("brain_ml", StringComparison.Ordinal), "the flagged section is not before the statistics");
        Assert.Contains("sub-05_qc.png", html[flagged..]);
    }

    [Fact]
    public async Task Exclude_flagged_leaves_the_broken_subject_out_of_the_statistics_and_says_so()
    {
        using var d = new TempDir("group-qc");
        WriteCohort(d, exclude: true);
        var o = await new CohortRunner(new CountingTestMeasurer(null, 0, "p1")).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });
        var qc = Qc(d);
        int b = Array.IndexOf(qc.GetStrings("participant_id").ToArray(), "sub-05");
        Assert.Equal("excluded", qc.GetStrings("qc_status")[b]);
        var data = o.Group!.Stats!.Data;
        Assert.Equal(8, data.RowCount);
        Assert.DoesNotContain("sub-05", data.GetStrings("participant_id"));
        Assert.Equal(9, o.Group.Measures.RowCount);   // still in the cohort table
        Assert.Contains(o.Group.Notes, n => n.Contains("excluded from the statistics") && n.Contains("sub-05") && n.Contains("cohort_outlier(icv_ml"));
        Assert.Contains("excluded from the statistics", File.ReadAllText(d["out/group/report.html"]));

        // reference: the same cohort with sub-05 never there gives the same statistics
        using var r = new TempDir("group-qc-ref");
        WriteCohort(r, exclude: false, withoutBroken: true);
        await new CohortRunner(new CountingTestMeasurer(null, 0, "p1")).RunAsync(r.FullName, new CohortRunOptions { Jobs = 2 });
        var ours = CsvTable.Read(d["out/group/stats.csv"]);
        var reference = CsvTable.Read(r["out/group/stats.csv"]);
        Assert.Equal(reference.RowCount, ours.RowCount);
        Assert.Equal(reference.ColumnNames, ours.ColumnNames);
        foreach (var c in reference.Columns)
            for (int i = 0; i < reference.RowCount; i++)
                Assert.Equal(c.IsNull(i) ? null : c.Format(i), ours.Find(c.Name)!.IsNull(i) ? null : ours.Find(c.Name)!.Format(i));
    }
}
