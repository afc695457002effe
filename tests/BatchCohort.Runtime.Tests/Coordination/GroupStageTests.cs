using System.Globalization;
using BatchCohort.Analysis.Tables;
using BatchCohort.Host;
using BatchCohort.Runtime.Coordination;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Coordination;

/// <summary>The group stage wired to a run: the cohort table, the demographics join, the analyses, the report.</summary>
public class GroupStageTests
{
    [Fact]
    public async Task The_cohort_table_joins_measures_with_demographics_and_the_report_names_failures()
    {
        using var d = new TempDir("group");
        TestInputs.WriteCohort(d.FullName, 12, corrupt: new[] { "05" }, missing: new[] { "88" });
        var o = await new CohortRunner(new CountingTestMeasurer(null, 0, "p1")).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });
        Assert.NotNull(o.Group);
        var csv = CsvTable.Read(d["out/group/measures.csv"]);
        var pq = TableFile.Read(d["out/group/measures.parquet"]);
        Assert.Equal(new[] { "participant_id", "icv_ml", "brain_ml", "nwbv", "brain_icv_ratio", "qc_flags", "age", "sex", "group" }, csv.ColumnNames);
        Assert.Equal(csv.ColumnNames, pq.ColumnNames);
        var ids = csv.GetStrings("participant_id");
        // BIDS participant_id ("sub-01"), as participants.tsv writes it
        Assert.Equal(Enumerable.Range(1, 12).Where(i => i != 5).Select(i => "sub-" + i.ToString("00", CultureInfo.InvariantCulture)), ids);
        Assert.Equal(ids, pq.GetStrings("participant_id"));
        for (int r = 0; r < csv.RowCount; r++)
        {
            int i = int.Parse(ids[r]![4..], CultureInfo.InvariantCulture);
            bool patient = i % 2 == 0;
            double v = 10 * i + (patient ? 7 : 0);       // what TestInputs wrote
            Assert.Equal(1400 + 3 * v, csv.GetDoubles("icv_ml")[r], 9);
            Assert.Equal((1000 + 2 * v) / (1400 + 3 * v), pq.GetDoubles("nwbv")[r], 12);
            Assert.Equal(60 + i, csv.GetDoubles("age")[r]);
            Assert.Equal(patient ? "patient" : "control", csv.GetStrings("group")[r]);
            Assert.Equal(v > 100 ? "large" : null, csv.GetStrings("qc_flags")[r]);   // an empty text cell reads back as missing
        }
        var stats = CsvTable.Read(d["out/group/stats.csv"]);
        var tests = Enumerable.Range(0, stats.RowCount).Select(r => (stats.GetStrings("measure")[r], stats.GetStrings("test")[r], stats.GetStrings("term")[r])).ToList();
        Assert.Contains(("brain_ml", "welch_t", "group"), tests);
        Assert.Contains(("nwbv", "ols", "sex[T.M]"), tests);
        Assert.Contains(("nwbv", "ols", "age"), tests);
        Assert.Contains(("nwbv", "pearson", "age"), tests);
        Assert.True(File.Exists(d["out/group/stats.parquet"]) && File.Exists(d["out/group/stats.json"]));
        Assert.Empty(Directory.GetFileSystemEntries(d["out/group"], ".*"));   // no temporary files left behind
        var html = File.ReadAllText(d["out/group/report.html"]);
        Assert.Contains("05", html);
        Assert.Contains("wrong magic", html);
        Assert.Contains("88", html);
        Assert.Contains("input file not found", html);
        Assert.Contains("../sub-01/anat/sub-01_qc.png", html);
        Assert.Contains("group/report.html", o.State.Outputs);
        Assert.True(File.Exists(d["out/sub-01/anat/sub-01_measures.parquet"]));
        var row = TableFile.Read(d["out/sub-01/anat/sub-01_measures.parquet"]);
        Assert.Equal(1, row.RowCount);
        Assert.Equal(1400 + 3 * 10.0, row.GetDoubles("icv_ml")[0]);
    }

    [Fact]
    public async Task Subjects_outside_every_group_level_are_left_out_of_the_tests_with_a_note()
    {
        using var d = new TempDir("group");
        TestInputs.WriteCohort(d.FullName, 8);
        var tsv = File.ReadAllText(d["data/participants.tsv"]).Replace("sub-03\t63\tF\tcontrol", "sub-03\t63\tF\tn/a").Replace("sub-07\t67\tM\tcontrol", "sub-07\t67\tM\tunknown");
        File.WriteAllText(d["data/participants.tsv"], tsv);
        var o = await new CohortRunner(new CountingTestMeasurer(null, 0, "p1")).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });
        var note = Assert.Single(o.Group!.Notes, n => n.Contains("left out of the group tests"));
        Assert.Contains("03 (group = missing)", note);
        Assert.Contains("07 (group = unknown)", note);
        Assert.Equal(6, o.Group.Stats!.Data.RowCount);
        Assert.Equal(8, o.Group.Measures.RowCount);   // still in the cohort table
        Assert.Equal(SubjectStatus.Done, o.State.Subjects.Single(s => s.Id == "03").Status);
    }

    [Fact]
    public async Task Numeric_group_conditions_and_renamed_columns_work_like_OASIS_CDR()
    {
        using var d = new TempDir("group");
        TestInputs.WriteCohort(d.FullName, 10);
        // an OASIS-style demographics file: ID, M/F, Age, CDR (blank for some), nWBV (clashes with our nwbv)
        var lines = new List<string> { "ID,M/F,Age,CDR,nWBV" };
        for (int i = 1; i <= 10; i++)
            lines.Add($"sub-{i:00},{(i % 3 == 0 ? "F" : "M")},{60 + i},{(i == 9 ? "" : i % 2 == 0 ? "0.5" : "0")},0.{700 + i}");
        File.WriteAllLines(d["data/oasis.csv"], lines);
        var manifest = File.ReadAllText(d["cohort.json"])
            .Replace("\"demographics\": { \"path\": \"data/participants.tsv\", \"id\": \"participant_id\" }",
                     "\"demographics\": { \"path\": \"data/oasis.csv\", \"id\": \"ID\", \"columns\": { \"sex\": \"M/F\", \"age\": \"Age\", \"cdr\": \"CDR\" } }")
            .Replace("\"groups\": { \"column\": \"group\", \"levels\": { \"control\": \"control\", \"patient\": \"patient\" } }",
                     "\"groups\": { \"column\": \"cdr\", \"levels\": { \"control\": \"== 0\", \"patient\": \"> 0\" } }");
        File.WriteAllText(d["cohort.json"], manifest);
        var o = await new CohortRunner(new CountingTestMeasurer(null, 0, "p1")).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });
        var t = o.Group!.Measures;
        Assert.Contains("nWBV_demographics", t.ColumnNames);
        Assert.Contains("cdr", t.ColumnNames);
        Assert.Contains("sex", t.ColumnNames);
        var g = t.GetStrings("group");
        Assert.Equal("patient", g[1]);
        Assert.Equal("control", g[0]);
        Assert.Null(g[8]);   // sub-09 has no CDR
        Assert.Contains(o.Group.Notes, n => n.Contains("09 (cdr = missing)"));
        Assert.Equal(9, o.Group.Stats!.Data.RowCount);
    }

    [Fact]
    public async Task Several_demographics_tables_are_joined_in_order_keeping_only_mapped_columns_when_asked()
    {
        using var d = new TempDir("group");
        TestInputs.WriteCohort(d.FullName, 6);
        File.WriteAllText(d["data/truth.tsv"], "participant_id\tbrain_ml\tscale\n" + string.Join("", Enumerable.Range(1, 5).Select(i => $"sub-{i:00}\t{1000 + i}\t0.9\n")));
        var manifest = File.ReadAllText(d["cohort.json"]).Replace(
            "\"demographics\": { \"path\": \"data/participants.tsv\", \"id\": \"participant_id\" }",
            "\"demographics\": [ \"data/participants.tsv\", { \"path\": \"data/truth.tsv\", \"onlyMapped\": true, \"columns\": { \"true_brain_ml\": \"brain_ml\" } } ]");
        File.WriteAllText(d["cohort.json"], manifest.Replace("\"analyses\": [", "\"analyses\": [ { \"type\": \"correlate\", \"measures\": [\"brain_ml\"], \"with\": \"true_brain_ml\" },"));
        var o = await new CohortRunner(new CountingTestMeasurer(null, 0, "p1")).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });
        var t = o.Group!.Measures;
        Assert.Equal(new[] { "participant_id", "icv_ml", "brain_ml", "nwbv", "brain_icv_ratio", "qc_flags", "age", "sex", "group", "true_brain_ml" }, t.ColumnNames);
        Assert.Equal(1003.0, t.GetDoubles("true_brain_ml")[2]);
        Assert.True(double.IsNaN(t.GetDoubles("true_brain_ml")[5]));     // sub-06 has no truth row
        Assert.Contains(o.Group.Notes, n => n.Contains("1 measured subject without a row in truth.tsv: 06"));
        Assert.Contains(Enumerable.Range(0, o.Group.Stats!.Stats.RowCount), r => o.Group.Stats.Stats.GetStrings("term")[r] == "true_brain_ml");
    }

    [Fact]
    public async Task When_every_subject_fails_the_report_still_lists_them()
    {
        using var d = new TempDir("group");
        TestInputs.WriteCohort(d.FullName, 3, corrupt: new[] { "01", "02", "03" });
        var o = await new CohortRunner(new CountingTestMeasurer(null, 0, "p1")).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });
        Assert.Equal(3, o.Failed.Count);
        Assert.Null(o.Group!.Stats);
        var html = File.ReadAllText(d["out/group/report.html"]);
        foreach (var id in new[] { "01", "02", "03" }) Assert.Contains($"sub-{id}_T1w.nii: not a test volume (wrong magic)", html);
        Assert.Contains("no subject was measured", html);
    }

    [Fact]
    public async Task Demographics_written_with_plain_ids_join_the_BIDS_participant_ids()
    {
        using var d = new TempDir("group");
        TestInputs.WriteCohort(d.FullName, 6);
        // the same table with ids "01" … "06" instead of "sub-01" …, and one id ("07") that matches no subject
        var tsv = File.ReadAllText(d["data/participants.tsv"]).Replace("sub-", "");
        File.WriteAllText(d["data/participants.tsv"], tsv + "07\t70\tF\tcontrol\n");
        var o = await new CohortRunner(new CountingTestMeasurer(null, 0, "p1")).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });
        var t = o.Group!.Measures;
        Assert.Equal(Enumerable.Range(1, 6).Select(i => $"sub-{i:00}"), t.GetStrings("participant_id"));
        Assert.Equal(Enumerable.Range(1, 6).Select(i => 60.0 + i), t.GetDoubles("age"));
        Assert.Equal(6, o.Group.Stats!.Data.RowCount);
        var fromFile = TableFile.Read(d["out/group/measures.parquet"]);
        Assert.Equal(t.GetStrings("participant_id"), fromFile.GetStrings("participant_id"));
        Assert.Equal("sub-01", TableFile.Read(d["out/sub-01/anat/sub-01_measures.parquet"]).GetStrings("participant_id")[0]);
    }

    [Fact]
    public async Task The_report_methods_paragraph_names_the_runs_atlas_hash_and_settings()
    {
        using var d = new TempDir("group");
        TestInputs.WriteCohort(d.FullName, 6);
        // an atlas given by files: its identity is the SHA-256 of their bytes
        File.WriteAllBytes(d["data/atlas_head.nii"], Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray());
        File.WriteAllBytes(d["data/atlas_brain.nii"], Enumerable.Range(0, 3000).Select(i => (byte)(i * 13)).ToArray());
        var manifest = File.ReadAllText(d["cohort.json"])
            .Replace("\"atlas\": \"phantom\"", "\"atlas\": { \"head\": \"data/atlas_head.nii\", \"brain\": \"data/atlas_brain.nii\" }")
            .Replace("\"settings\": { \"scale\": 1.0 }", "\"settings\": { \"scale\": 1.0, \"icvSearchMm\": 7.5 }");
        File.WriteAllText(d["cohort.json"], manifest);
        var o = await new CohortRunner(new CountingTestMeasurer(null, 0, "p1")).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });
        Assert.NotNull(o.Group!.Stats);
        var html = System.Net.WebUtility.HtmlDecode(File.ReadAllText(d["out/group/report.html"]));
        int at = html.IndexOf("<div id=\"methods-text\">", StringComparison.Ordinal);
        Assert.True(at > 0, "no generated methods paragraph");
        var methods = html[at..html.IndexOf("</div>", at, StringComparison.Ordinal)];
        string Sha(string f) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(d[f])));
        Assert.Contains(Sha("data/atlas_head.nii")[..16], methods);
        Assert.Contains(Sha("data/atlas_brain.nii")[..16], methods);
        Assert.Contains("pipeline version p1", methods);
        Assert.Contains(o.State.PipelineHash, methods);
        Assert.Contains(System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, methods);
        // the settings actually used: 7.5 mm in the ICV sentence, and both manifest settings in the settings table
        Assert.Contains("the carried atlas mask dilated by 7.5 mm", methods);
        Assert.Contains("Mattes mutual information (32 histogram bins)", methods);
        Assert.Contains("8, 4, 2 mm", methods);
        Assert.Contains("nWBV = brain / eTIV", methods);
        Assert.Contains("Benjamini–Hochberg", methods);
        // the FDR family the group stage really used: as many tests as carry a q value in stats.csv
        var stats = CsvTable.Read(d["out/group/stats.csv"]);
        var q = stats["q"];
        // (the default family: one per kind of test, each across the measures)
        int welch = Enumerable.Range(0, stats.RowCount).Count(i => !q.IsNull(i) && stats.GetStrings("test")[i] == "welch_t");
        Assert.True(welch > 0);
        Assert.Contains("within each kind of test", methods);
        Assert.Contains($"Welch's t-tests: {welch}", methods);
        int table = html.IndexOf("<table id=\"settings\">", StringComparison.Ordinal);
        Assert.True(table > 0);
        var settings = html[table..html.IndexOf("</table>", table, StringComparison.Ordinal)];
        Assert.Contains("<code>settings.icvSearchMm</code></td><td><code>7.5</code>", settings);
        Assert.Contains("<code>settings.scale</code></td><td><code>1.0</code>", settings);
    }
}
