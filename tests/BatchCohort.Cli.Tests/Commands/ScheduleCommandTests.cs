using System.Diagnostics;
using System.Globalization;
using BatchCohort.Runtime.Measurement;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests.Commands;

/// <summary>
/// `batchcohort schedule …` and `batchcohort serve --once` as a user runs them: real processes over one state folder
/// (so every step is also a restart), the fast test measurer plugged in through BATCHCOHORT_MEASURER.
/// </summary>
public class ScheduleCommandTests
{
    /// <summary>The schedules' state folder of this test (BATCHCOHORT_HOME), passed to every process it starts.</summary>
    internal static Dictionary<string, string> Home(TempDir d) => new() { ["BATCHCOHORT_HOME"] = d["home"] };

    internal static Task<CliProcess.Result> Cli(TempDir d, params string[] args) =>
        CliProcess.RunToEnd(d, 0, Home(d), TimeSpan.FromSeconds(120), args);

    private static string IdFrom(CliProcess.Result add)
    {
        Assert.True(add.Code == 0, add.Stderr + add.Stdout);
        var line = add.Stdout.Split('\n').First(l => l.StartsWith("added schedule ", StringComparison.Ordinal));
        return line["added schedule ".Length..line.IndexOf(':')];
    }

    [Fact]
    public async Task A_schedule_for_a_broken_manifest_is_refused_at_add_with_one_line_and_exit_2()
    {
        using var d = new TempDir("sched-bad");
        TestInputs.WriteCohort(d.FullName, 2);
        File.WriteAllText(d["cohort.json"], File.ReadAllText(d["cohort.json"]).Replace("\"atlas\": \"phantom\",", "\"atlas\": \"phantom\", \"colour\": 3,"));
        var r = await Cli(d, "schedule", "add", d.FullName, "--at", "02:00", "--timezone", "Europe/Berlin");
        Assert.Equal(2, r.Code);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(d["cohort.json"], line);
        Assert.Contains("colour: unknown field", line);
        Assert.False(Directory.Exists(d["home/schedules"]) && Directory.EnumerateFiles(d["home/schedules"]).Any(), "nothing may be stored");

        // the semantic checks of `validate` too (group column and measure names against the data, before any night)
        foreach (var (from, to, field) in new[] { ("\"column\": \"group\"", "\"column\": \"grup\"", "grup"), ("\"measures\": [\"brain_ml\", \"nwbv\"]", "\"measures\": [\"brain_ml\", \"nwvb\"]", "nwvb") })
        {
            TestInputs.WriteCohort(d.FullName, 2);
            var manifest = File.ReadAllText(d["cohort.json"]);
            Assert.Contains(from, manifest);
            File.WriteAllText(d["cohort.json"], manifest.Replace(from, to));
            var typo = await Cli(d, "schedule", "add", d.FullName, "--at", "02:00", "--timezone", "Europe/Berlin");
            Assert.Equal(2, typo.Code);
            Assert.Contains(field, Assert.Single(typo.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
            Assert.False(Directory.Exists(d["home/schedules"]) && Directory.EnumerateFiles(d["home/schedules"]).Any(), "nothing may be stored");
        }

        foreach (var (args, expect) in new[]
                 {
                     (new[] { "--at", "2am" }, "--at '2am'"),
                     (new[] { "--at", "02:00", "--timezone", "Mars/Olympus" }, "--timezone 'Mars/Olympus'"),
                     (new[] { "--at", "02:00", "--webhook", "ftp://example.org/x" }, "--webhook"),
                 })
        {
            TestInputs.WriteCohort(d.FullName, 2);
            var bad = await Cli(d, new[] { "schedule", "add", d.FullName }.Concat(args).ToArray());
            Assert.Equal(2, bad.Code);
            Assert.Contains(expect, Assert.Single(bad.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        }
        var gone = await Cli(d, "schedule", "remove", "no-such-0000");
        Assert.Equal(2, gone.Code);
        Assert.Contains("no schedule no-such-0000", gone.Stderr);
    }

    [Fact]
    public async Task Add_list_serve_once_restart_run_now_and_remove()
    {
        using var d = new TempDir("sched-cli");
        TestInputs.WriteCohort(d.FullName, 6, corrupt: new[] { "05" });
        var id = IdFrom(await Cli(d, "schedule", "add", d.FullName, "--at", "02:00", "--timezone", "America/New_York"));
        Assert.Matches("^test-cohort-[0-9a-f]{4}$", id);
        var list0 = await Cli(d, "schedule", "list");
        Assert.Equal(0, list0.Code);
        Assert.Contains($"{id}  test-cohort  at 02:00 America/New_York", list0.Stdout);
        Assert.Contains("last run: never", list0.Stdout);

        // tomorrow 02:00 New York time, 30 s after: the schedule is due (the clock of each process starts there)
        var ny = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var tomorrow = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, ny).DateTime).AddDays(1);
        var local = tomorrow.ToDateTime(new TimeOnly(2, 0, 30));
        var due = new DateTimeOffset(local, ny.GetUtcOffset(local)).ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        var first = await Cli(d, "serve", "--once", "--now", due);
        Assert.True(first.Code == 3, first.Stderr + first.Stdout);              // subject 05 failed: exit 3, named with its reason
        Assert.Contains("starting the run for " + tomorrow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), first.Stdout);
        Assert.Contains("5 measured, 0 cached, 1 failed", first.Stdout);
        Assert.Contains("05: ", first.Stderr);
        Assert.Contains("not a test volume (wrong magic)", first.Stderr);
        Assert.Equal(5, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());

        // a new process at the same instant: that night has happened, nothing runs
        var again = await Cli(d, "serve", "--once", "--now", due);
        Assert.Equal(0, again.Code);
        Assert.Contains("nothing due", again.Stdout);

        var list1 = await Cli(d, "schedule", "list");
        Assert.Equal(3, list1.Code);                                              // the last run had failures
        Assert.Contains("failures: 6 subjects: 5 measured", list1.Stdout);

        // the failing input is fixed; run-now measures only it and the list is clean again
        File.WriteAllText(d["data/sub-05_T1w.nii"], $"{CountingTestMeasurer.Magic}\n57\n");
        var now = await Cli(d, "schedule", "run-now", id);
        Assert.True(now.Code == 0, now.Stderr + now.Stdout);
        Assert.Contains("succeeded: 6 subjects: 1 measured, 5 cached, 0 failed", now.Stdout);
        Assert.Contains("exports: published " + d["out/exports"], now.Stdout);
        Assert.Equal(0, (await Cli(d, "schedule", "list")).Code);

        var rm = await Cli(d, "schedule", "remove", id);
        Assert.Equal(0, rm.Code);
        Assert.Contains("no schedules", (await Cli(d, "schedule", "list")).Stdout);
        Assert.Equal(2, Directory.GetFiles(d[$"home/history/{id}"], "*.json").Length);   // the history is kept
    }
}
