using System.Diagnostics;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Runtime.Measurement;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests;

/// <summary>
/// Everything checked before the first subject: `batchcohort validate` and the same checks at the start of
/// `batchcohort run`, as a user runs them (a real process). The test measurer appends a line to a markers file for
/// every subject it measures, so "nothing was measured" is observed, not assumed.
/// </summary>
public class ValidateCommandTests
{
    /// <param name="testMeasurer">false: the product's own measurer (the imaging pipeline).</param>
    private static Task<CliProcess.Result> Cli(TempDir d, IDictionary<string, string>? env, bool testMeasurer, params string[] args)
    {
        var all = new Dictionary<string, string>(env ?? new Dictionary<string, string>());
        if (!testMeasurer) all[MeasurerFactory.EnvironmentVariable] = "";
        return CliProcess.RunToEnd(d, 0, all, TimeSpan.FromSeconds(120), args);
    }

    private static void Edit(TempDir d, string from, string to)
    {
        var text = File.ReadAllText(d["cohort.json"]);
        Assert.Contains(from, text);
        File.WriteAllText(d["cohort.json"], text.Replace(from, to));
    }

    public static TheoryData<string, string, string, string> Typos => new()
    {
        // what is misspelled, the text replaced, its replacement, the field the one error line must name
        { "group column", "\"column\": \"group\"", "\"column\": \"grup\"", "groups.column: 'grup' is not a column" },
        { "measure", "\"measures\": [\"brain_ml\", \"nwbv\"]", "\"measures\": [\"brain_ml\", \"nwvb\"]", "analyses[0].measures[1]: measure 'nwvb'" },
        { "settings key", "\"settings\": { \"scale\": 1.0 }", "\"settings\": { \"scael\": 1.0 }", "settings.scael: unknown setting; did you mean 'scale'?" },
        { "section", "\"groups\":", "\"grups\":", "grups: unknown field; did you mean 'groups'?" },
    };

    [Theory]
    [MemberData(nameof(Typos))]
    public async Task Each_typo_stops_validate_and_run_with_one_line_naming_the_field_in_under_5_s_before_any_subject_is_measured(
        string what, string from, string to, string expected)
    {
        using var d = new TempDir("typo");
        TestInputs.WriteCohort(d.FullName, 6);
        Edit(d, from, to);
        foreach (var verb in new[] { "validate", "run" })
        {
            var r = await Cli(d, null, true, verb, d.FullName);
            Assert.True(r.Code == 2, $"{what}: {verb} exited {r.Code}\n{r.Stderr}\n{r.Stdout}");
            var line = Assert.Single(r.ErrorLines);
            Assert.Contains(expected, line);
            Assert.Contains("cohort.json", line);
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(5), $"{verb} took {r.Elapsed.TotalSeconds:0.0} s");
            Assert.False(File.Exists(d["markers.txt"]), $"{what}: {verb} measured a subject");
            Assert.False(Directory.Exists(d["out"]) && Directory.EnumerateDirectories(d["out"], "sub-*").Any(), $"{what}: {verb} wrote subject outputs");
            Assert.DoesNotContain("   at ", r.Stderr);
        }
    }

    [Fact]
    public async Task A_misspelled_pipeline_setting_stops_the_real_pipeline_before_it_measures()
    {
        using var d = new TempDir("typo-pipeline");
        TestInputs.WriteCohort(d.FullName, 4);
        Edit(d, "\"settings\": { \"scale\": 1.0 }", "\"settings\": { \"icvSerchMm\": 5, \"registration\": { \"histogramBins\": 4 } }");
        var r = await Cli(d, null, false, "run", d.FullName);
        Assert.True(r.Code == 2, r.Stderr + r.Stdout);
        Assert.Equal(2, r.ErrorLines.Length);
        Assert.Contains(r.ErrorLines, l => l.Contains("settings.icvSerchMm: unknown setting; did you mean 'icvSearchMm'?", StringComparison.Ordinal));
        Assert.Contains(r.ErrorLines, l => l.Contains("settings.registration.histogramBins: 4 is outside the allowed range 8 – 256", StringComparison.Ordinal));
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(5), $"took {r.Elapsed.TotalSeconds:0.0} s");
        Assert.False(Directory.Exists(d["out"]) && Directory.EnumerateDirectories(d["out"], "sub-*").Any());
    }

    [Fact]
    public async Task Validate_prints_subjects_demographics_coverage_groups_with_counts_and_the_atlas_and_warns_on_small_groups()
    {
        using var d = new TempDir("validate-ok");
        TestInputs.WriteCohort(d.FullName, 5);
        // one subject without a demographics row
        var tsv = File.ReadAllLines(d["data/participants.tsv"]).Where(l => !l.StartsWith("sub-05", StringComparison.Ordinal));
        File.WriteAllLines(d["data/participants.tsv"], tsv);
        var r = await Cli(d, null, true, "validate", d.FullName);
        Assert.True(r.Code == 0, r.Stderr + r.Stdout);
        Assert.Contains("subjects: 5", r.Stdout);
        Assert.Contains("participants.tsv (id column participant_id): 4 of 5 subjects have a row", r.Stdout);
        Assert.Contains("groups: group from column group: control 2, patient 2, in no level 1", r.Stdout);
        Assert.Contains("atlas: phantom", r.Stdout);
        Assert.Contains("settings: scale = 1", r.Stdout);
        Assert.Contains("warning: 1 of 5 subjects have no row in participants.tsv", r.Stderr);
        Assert.Contains("warning: group level control has only 2 subjects", r.Stderr);
        Assert.Contains("ok: the cohort can run", r.Stdout);
        Assert.False(File.Exists(d["markers.txt"]));
        Assert.False(Directory.Exists(d["out"]), "validate wrote outputs");
    }

    [Fact]
    public async Task A_derived_measure_that_would_overwrite_a_column_is_an_error_at_validation()
    {
        using var d = new TempDir("derived");
        TestInputs.WriteCohort(d.FullName, 6, extraManifest: "");
        Edit(d, "{ \"type\": \"correlate\", \"measures\": [\"nwbv\"], \"with\": \"age\" }",
            "{ \"type\": \"correlate\", \"measures\": [\"nwbv\"], \"with\": \"age\" },\n { \"type\": \"normalise\", \"measure\": \"brain_ml\", \"by\": \"icv_ml\", \"name\": \"nwbv\" }");
        var r = await Cli(d, null, true, "run", d.FullName);
        Assert.Equal(2, r.Code);
        Assert.Contains("analyses[2].name: the derived measure 'nwbv' would overwrite 'nwbv' (a measure of the pipeline)", Assert.Single(r.ErrorLines));
        Assert.False(File.Exists(d["markers.txt"]));
    }

    [Fact]
    public async Task Usage_errors_exit_2()
    {
        using var d = new TempDir("usage");
        foreach (var args in new[] { new[] { "run" }, new[] { "run", "x", "--jobs", "lots" }, new[] { "no-such-verb" } })
        {
            var r = await Cli(d, null, true, args);
            Assert.True(r.Code == 2, string.Join(' ', args) + ": exit " + r.Code + "\n" + r.Stderr);
            Assert.NotEmpty(r.ErrorLines);
        }
        Assert.Equal(0, (await Cli(d, null, true, "run", "--help")).Code);
    }

    private static void FakeColin27(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "ch2.nii.gz"), new byte[] { 1, 2, 3, 4 });
        File.WriteAllBytes(Path.Combine(dir, "ch2bet.nii.gz"), new byte[] { 5, 6, 7 });
    }

    [Fact]
    public async Task Removing_Colin27_between_two_runs_stops_with_a_message_and_putting_it_back_measures_nothing_again()
    {
        using var d = new TempDir("atlas-pin");
        TestInputs.WriteCohort(d.FullName, 4);
        Edit(d, "\"atlas\": \"phantom\"", "\"atlas\": \"default\"");
        FakeColin27(d["colin"]);
        Directory.CreateDirectory(d["empty"]);
        var with = new Dictionary<string, string> { [AtlasLibrary.Colin27DirVariable] = d["colin"] };
        var without = new Dictionary<string, string> { [AtlasLibrary.Colin27DirVariable] = d["empty"] };

        var r1 = await Cli(d, with, true, "run", d.FullName);
        Assert.True(r1.Code == 0, r1.Stderr + r1.Stdout);
        Assert.Equal(4, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());
        var measures1 = File.ReadAllText(d["out/group/measures.csv"]);

        var r2 = await Cli(d, without, true, "run", d.FullName);
        Assert.Equal(2, r2.Code);
        var line = Assert.Single(r2.ErrorLines);
        Assert.Contains("atlas: this cohort was measured with Colin27", line);
        Assert.Contains("mricron-data", line);
        Assert.Contains(AtlasLibrary.Colin27DirVariable, line);
        Assert.Equal(4, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());

        var r3 = await Cli(d, with, true, "run", d.FullName);
        Assert.True(r3.Code == 0, r3.Stderr + r3.Stdout);
        Assert.Equal(4, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());   // nothing measured again
        Assert.Equal(measures1, File.ReadAllText(d["out/group/measures.csv"]));
    }

    [Fact]
    public async Task Installing_Colin27_after_a_phantom_run_changes_no_measurement_and_measures_nothing_again()
    {
        using var d = new TempDir("atlas-pin2");
        TestInputs.WriteCohort(d.FullName, 4);
        Edit(d, "\"atlas\": \"phantom\"", "\"atlas\": \"default\"");
        FakeColin27(d["colin"]);
        Directory.CreateDirectory(d["empty"]);

        var r1 = await Cli(d, new Dictionary<string, string> { [AtlasLibrary.Colin27DirVariable] = d["empty"] }, true, "run", d.FullName);
        Assert.True(r1.Code == 0, r1.Stderr + r1.Stdout);
        Assert.Contains("Colin27 is not installed", r1.Stdout + r1.Stderr);   // said, not silent
        var measures1 = File.ReadAllText(d["out/group/measures.csv"]);

        var r2 = await Cli(d, new Dictionary<string, string> { [AtlasLibrary.Colin27DirVariable] = d["colin"] }, true, "run", d.FullName);
        Assert.True(r2.Code == 0, r2.Stderr + r2.Stdout);
        Assert.Equal(4, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());
        Assert.Equal(measures1, File.ReadAllText(d["out/group/measures.csv"]));
        Assert.Contains("4 from cache", r2.Stdout);
        var v = await Cli(d, new Dictionary<string, string> { [AtlasLibrary.Colin27DirVariable] = d["colin"] }, true, "validate", d.FullName);
        Assert.Contains("atlas: phantom", v.Stdout);
        Assert.Contains("fixed by the cohort's first run", v.Stdout);
    }
}
