using BatchCohort.Runtime.Cohorts;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Cohorts;

/// <summary>The checks made before the first subject (the library call that validate, run and schedules share).</summary>
public class CohortValidatorTests
{
    private static CountingTestMeasurer Measurer(TempDir d) => new(d["markers.txt"], 0, "p1");

    private static void Edit(TempDir d, string from, string to)
    {
        var text = File.ReadAllText(d["cohort.json"]);
        Assert.Contains(from, text);
        File.WriteAllText(d["cohort.json"], text.Replace(from, to));
    }

    [Fact]
    public void Every_problem_is_reported_at_once_one_line_each_with_the_closest_valid_name()
    {
        using var d = new TempDir("validate");
        TestInputs.WriteCohort(d.FullName, 6);
        Edit(d, "\"column\": \"group\"", "\"column\": \"grup\"");
        Edit(d, "\"measures\": [\"brain_ml\", \"nwbv\"]", "\"measures\": [\"brain_ml\", \"nwvb\"]");
        Edit(d, "\"settings\": { \"scale\": 1.0 }", "\"settings\": { \"scael\": 1.0 }");
        Edit(d, "\"with\": \"age\"", "\"with\": \"agee\"");
        var v = CohortValidator.Validate(d.FullName, Measurer(d));
        Assert.False(v.Ok);
        Assert.Equal(4, v.Errors.Count);
        Assert.Contains(v.Errors, e => e.Contains("groups.column: 'grup' is not a column of the demographics or a measure; did you mean 'group'?", StringComparison.Ordinal));
        Assert.Contains(v.Errors, e => e.Contains("analyses[0].measures[1]: measure 'nwvb' is not a measure of the pipeline or a column of the demographics; did you mean 'nwbv'?", StringComparison.Ordinal));
        Assert.Contains(v.Errors, e => e.Contains("settings.scael: unknown setting; did you mean 'scale'?", StringComparison.Ordinal));
        Assert.Contains(v.Errors, e => e.Contains("analyses[1].with: correlation variable 'agee'", StringComparison.Ordinal) && e.Contains("did you mean 'age'?", StringComparison.Ordinal));
        Assert.All(v.Errors, e => Assert.DoesNotContain('\n', e));
        Assert.False(File.Exists(d["markers.txt"]));
    }

    [Fact]
    public void Unknown_manifest_fields_are_all_named_with_a_suggestion()
    {
        using var d = new TempDir("validate");
        TestInputs.WriteCohort(d.FullName, 4);
        Edit(d, "\"output\": \"out\"", "\"outptu\": \"out\", \"fdr\": \"per-analysis\"");
        Edit(d, "\"id\": \"participant_id\"", "\"idd\": \"participant_id\"");
        var v = CohortValidator.Validate(d.FullName, Measurer(d));
        Assert.Equal(2, v.Errors.Count);
        Assert.Contains(v.Errors, e => e.Contains("outptu: unknown field; did you mean 'output'?", StringComparison.Ordinal));
        Assert.Contains(v.Errors, e => e.Contains("demographics.idd: unknown field; did you mean 'id'?", StringComparison.Ordinal));
    }

    [Fact]
    public void Values_out_of_range_unknown_fdr_families_and_empty_group_levels_are_errors()
    {
        using var d = new TempDir("validate");
        TestInputs.WriteCohort(d.FullName, 6);
        Edit(d, "\"settings\": { \"scale\": 1.0 }", "\"settings\": { \"scale\": 1000 }, \"fdr\": \"per-family\"");
        Edit(d, "\"patient\": \"patient\"", "\"patient\": \"patients\"");
        var v = CohortValidator.Validate(d.FullName, Measurer(d));
        Assert.Contains(v.Errors, e => e.Contains("fdr: 'per-family' is not one of per-test, per-analysis, all", StringComparison.Ordinal));
        // the manifest could not be read: the rest is checked once it can
        Assert.Single(v.Errors);
        Edit(d, "\"fdr\": \"per-family\"", "\"fdr\": \"all\"");
        v = CohortValidator.Validate(d.FullName, Measurer(d));
        Assert.Contains(v.Errors, e => e.Contains("settings.scale: 1000 is outside the allowed range 0.01 – 100", StringComparison.Ordinal));
        Assert.Contains(v.Errors, e => e.Contains("groups.levels.patient: no subject matches 'patients' in column group (values seen: control, patient)", StringComparison.Ordinal));
        Assert.Equal(2, v.Errors.Count);
    }

    [Fact]
    public void Ids_that_match_no_demographics_row_are_an_error_naming_both_forms()
    {
        using var d = new TempDir("validate");
        TestInputs.WriteCohort(d.FullName, 4);
        File.WriteAllText(d["data/participants.tsv"], File.ReadAllText(d["data/participants.tsv"]).Replace("sub-0", "subj-0"));
        var v = CohortValidator.Validate(d.FullName, Measurer(d));
        var e = Assert.Single(v.Errors, x => x.Contains("demographics.id:", StringComparison.Ordinal));
        Assert.Contains("no subject has a row in participants.tsv (subjects are sub-01…, the table's participant_id gives sub-subj01…", e);
    }

    [Fact]
    public void A_single_valued_covariate_is_a_warning_not_an_error()
    {
        using var d = new TempDir("validate");
        TestInputs.WriteCohort(d.FullName, 6);
        File.WriteAllText(d["data/participants.tsv"], File.ReadAllText(d["data/participants.tsv"]).Replace("\tF\t", "\tM\t"));
        var v = CohortValidator.Validate(d.FullName, Measurer(d));
        Assert.True(v.Ok, string.Join("\n", v.Errors));
        Assert.Contains(v.Warnings, w => w.Contains("analyses[0].covariates[1]: 'sex' has a single value (M)", StringComparison.Ordinal));
    }

    [Fact]
    public void Validating_writes_nothing_and_takes_well_under_5_s_for_hundreds_of_subjects()
    {
        using var d = new TempDir("validate");
        TestInputs.WriteCohort(d.FullName, 400);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var v = CohortValidator.Validate(d.FullName, Measurer(d));
        sw.Stop();
        Assert.True(v.Ok, string.Join("\n", v.Errors));
        Assert.Equal(400, v.Subjects.Count);
        Assert.Contains(v.Info, i => i.Contains("control 200, patient 200", StringComparison.Ordinal));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"{sw.Elapsed.TotalSeconds:0.0} s");
        Assert.False(Directory.Exists(d["out"]));
    }
}
