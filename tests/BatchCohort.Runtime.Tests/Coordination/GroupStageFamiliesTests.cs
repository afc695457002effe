using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using BatchCohort.Analysis.Tables;
using BatchCohort.Host;
using BatchCohort.Runtime.Coordination;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Coordination;

/// <summary>
/// The group stage as a manifest drives it: exactly the correlations it names, the FDR family it chooses (checked
/// against statsmodels' multipletests fdr_bh), untestable cases as rows with notes, a final state in the run record,
/// and no stale statistics beside new measures.
/// </summary>
public class GroupStageFamiliesTests
{
    private static CountingTestMeasurer Measurer(TempDir d) => new(d["markers.txt"], 0, "p1");

    private static Task<CohortRunOutcome> Run(TempDir d) => new CohortRunner(Measurer(d)).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });

    /// <summary>A cohort whose demographics carry noisy age and score columns (so the p-values spread out).</summary>
    private static void WriteCohort(TempDir d, int n, string fdr)
    {
        TestInputs.WriteCohort(d.FullName, n);
        var rng = new Random(7);
        var tsv = new StringBuilder("participant_id\tage\tsex\tgroup\tscore\n");
        for (int i = 1; i <= n; i++)
            tsv.Append(CultureInfo.InvariantCulture, $"sub-{i:00}\t{50 + rng.Next(40)}\t{(i % 3 == 0 ? "F" : "M")}\t{(i % 2 == 0 ? "patient" : "control")}\t{rng.NextDouble() * 10:0.000}\n");
        File.WriteAllText(d["data/participants.tsv"], tsv.ToString());
        File.WriteAllText(d["cohort.json"], $$"""
            {
              "name": "families",
              "inputs": { "type": "files", "glob": "data/sub-*_T1w.nii" },
              "demographics": { "path": "data/participants.tsv", "id": "participant_id" },
              "groups": { "column": "group", "levels": { "control": "control", "patient": "patient" } },
              "atlas": "phantom",
              "settings": { "scale": 1.0 },
              "fdr": "{{fdr}}",
              "analyses": [
                { "type": "compare-groups", "measures": ["brain_ml", "nwbv", "icv_ml"], "covariates": ["age"] },
                { "type": "correlate", "measures": ["nwbv", "icv_ml"], "with": "age" },
                { "type": "correlate", "measures": ["brain_ml", "brain_icv_ratio"], "with": "score" }
              ]
            }
            """);
    }

    [RequiresTheory(Requirements.Statsmodels)]
    [InlineData("per-test")]
    [InlineData("per-analysis")]
    [InlineData("all")]
    public async Task Correlations_are_the_named_pairs_and_q_values_match_statsmodels_on_the_chosen_family(string fdr)
    {
        using var d = new TempDir("families");
        WriteCohort(d, 16, fdr);
        var o = await Run(d);
        Assert.Equal(RunState.Completed, o.State.Status);
        var stats = CsvTable.Read(d["out/group/stats.csv"]);
        var rows = Enumerable.Range(0, stats.RowCount).ToList();
        string S(string col, int r) => stats.GetStrings(col)[r] ?? "";

        // exactly the pairs the manifest names, not every measure × every "with" column
        var pairs = rows.Where(r => S("test", r) == "pearson").Select(r => (S("measure", r), S("term", r))).OrderBy(p => p).ToList();
        Assert.Equal(new[] { ("brain_icv_ratio", "score"), ("brain_ml", "score"), ("icv_ml", "age"), ("nwbv", "age") }, pairs);
        // a measure named only by a correlation is not compared between groups
        Assert.DoesNotContain(rows, r => S("measure", r) == "brain_icv_ratio" && S("test", r) == "welch_t");

        var analyses = new JsonObject
        {
            ["brain_ml"] = "analyses[0]", ["nwbv"] = "analyses[0]", ["icv_ml"] = "analyses[0]",
            ["nwbv~age"] = "analyses[1]", ["icv_ml~age"] = "analyses[1]",
            ["brain_ml~score"] = "analyses[2]", ["brain_icv_ratio~score"] = "analyses[2]",
        };
        File.WriteAllText(d["analyses.json"], analyses.ToJsonString());
        var oracle = JsonNode.Parse(ExternalTool.Python("fdr_families.py", d["out/group/stats.csv"], fdr, "group", d["analyses.json"]))!;
        var q = stats.GetDoubles("q");
        int corrected = 0;
        foreach (var r in rows)
        {
            var family = (string?)oracle["family"]![r];
            Assert.Equal(family, stats.GetStrings("family")[r]);
            if (family is null) { Assert.True(double.IsNaN(q[r]), $"row {r} ({S("measure", r)} {S("test", r)} {S("term", r)}) has a q outside any family"); continue; }
            Assert.Equal((double)oracle["q"]![r]!, q[r], 12);
            corrected++;
        }
        int families = rows.Select(r => (string?)oracle["family"]![r]).Where(f => f is not null).Distinct().Count();
        Assert.Equal(fdr switch { "all" => 1, "per-test" => 5, _ => 7 }, families);
        Assert.Equal(3 * 3 + 4 * 2, corrected);   // 3 measures × (student, welch, ols group term) + 4 pairs × (pearson, spearman)
        Assert.Contains(fdr, File.ReadAllText(d["out/group/stats.json"]));
    }

    [Fact]
    public async Task A_single_level_covariate_becomes_a_note_on_the_model_and_the_run_completes()
    {
        using var d = new TempDir("onelevel");
        TestInputs.WriteCohort(d.FullName, 8);
        File.WriteAllText(d["data/participants.tsv"], File.ReadAllText(d["data/participants.tsv"]).Replace("\tF\t", "\tM\t"));
        var o = await Run(d);
        Assert.Equal(RunState.Completed, o.State.Status);
        var stats = CsvTable.Read(d["out/group/stats.csv"]);
        var ols = Enumerable.Range(0, stats.RowCount).Where(r => stats.GetStrings("test")[r] == "ols").ToList();
        Assert.NotEmpty(ols);
        Assert.All(ols, r => Assert.Contains("covariate 'sex' has a single level (M)", stats.GetStrings("note")[r]));
        Assert.DoesNotContain(ols, r => (stats.GetStrings("term")[r] ?? "").StartsWith("sex", StringComparison.Ordinal));
        Assert.Contains(ols, r => stats.GetStrings("term")[r] == "group[T.patient]" && !double.IsNaN(stats.GetDoubles("p")[r]));
    }

    [Fact]
    public async Task A_run_without_statistics_removes_the_previous_runs_statistics()
    {
        using var d = new TempDir("stale");
        TestInputs.WriteCohort(d.FullName, 6);
        await Run(d);
        Assert.True(File.Exists(d["out/group/stats.csv"]));
        var text = File.ReadAllText(d["cohort.json"]);
        int a = text.IndexOf("\"analyses\": [", StringComparison.Ordinal);
        int b = text.IndexOf(']', text.IndexOf("\"with\": \"age\"", StringComparison.Ordinal));
        File.WriteAllText(d["cohort.json"], text[..a] + "\"analyses\": []" + text[(b + 1)..]);
        var o = await Run(d);
        Assert.Equal(RunState.Completed, o.State.Status);
        Assert.True(File.Exists(d["out/group/measures.csv"]));
        foreach (var f in new[] { "stats.csv", "stats.parquet", "stats.json", "descriptives.csv" })
            Assert.False(File.Exists(d["out/group/" + f]), f + " of the previous run is still there");
        Assert.Contains(o.State.Notes, n => n.Contains("no group statistics", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_group_stage_that_fails_ends_the_run_record_in_a_final_state_and_leaves_no_stale_statistics()
    {
        using var d = new TempDir("groupfail");
        TestInputs.WriteCohort(d.FullName, 6);
        await Run(d);
        // a folder where stats.csv must go: writing the statistics fails
        File.Delete(d["out/group/stats.csv"]);
        Directory.CreateDirectory(d["out/group/stats.csv"]);
        await Assert.ThrowsAnyAsync<IOException>(() => Run(d));
        var state = RunState.TryLoad(RunState.StatePath(d["out"]))!;
        Assert.Equal(RunState.GroupFailed, state.Status);
        Assert.NotNull(state.FinishedAt);
        Assert.Contains(state.Notes, n => n.StartsWith("group stage failed: ", StringComparison.Ordinal));
        Assert.Equal(RunState.GroupFailed, RunState.TryLoad(RunState.RecordPath(d["out"], state.RunId))!.Status);
        foreach (var f in new[] { "stats.parquet", "stats.json", "descriptives.csv" })
            Assert.False(File.Exists(d["out/group/" + f]), f + " left beside the new measures");
        // the next run (the obstacle removed) measures nothing and completes
        Directory.Delete(d["out/group/stats.csv"]);
        var m = Measurer(d);
        var o = await new CohortRunner(m).RunAsync(d.FullName, new CohortRunOptions { Jobs = 2 });
        Assert.Equal(0, m.Calls);
        Assert.Equal(RunState.Completed, o.State.Status);
    }
}
