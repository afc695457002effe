using System.Diagnostics;
using System.Text;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Measurement;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Cli.Tests;

/// <summary>
/// `batchcohort run` as a user runs it: a real process (dotnet batchcohort.dll), with the test-only measurer
/// plugged in through BATCHCOHORT_MEASURER (the product's default is the imaging pipeline).
/// </summary>
public class RunCommandTests
{
    private static Process Start(TempDir d, int delayMs, params string[] args) => CliProcess.Start(d, delayMs, null, args);

    private static Task<CliProcess.Result> RunToEnd(TempDir d, int delayMs, params string[] args) =>
        CliProcess.RunToEnd(d, delayMs, null, TimeSpan.FromSeconds(120), args);

    private static string[] CommittedResults(TempDir d) =>
        Directory.Exists(d["out"])
            ? Directory.EnumerateFiles(d["out"], "*_measures.json", SearchOption.AllDirectories)
                .Select(f => ResultStore.TryLoadValid(f, null)?.SubjectId).OfType<string>().Order(StringComparer.Ordinal).ToArray()
            : Array.Empty<string>();

    [Fact]
    public async Task Killed_with_kill_9_midway_a_rerun_redoes_only_unfinished_subjects_and_gives_the_uninterrupted_table()
    {
        const int n = 16;
        using var d = new TempDir("cli-kill");
        TestInputs.WriteCohort(d.FullName, n);
        using (var p = Start(d, 300, "run", d.FullName, "--jobs", "2"))
        {
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            var sw = Stopwatch.StartNew();
            while (TestInputs.CountMarkers(d["markers.txt"]).Values.Sum() < 4)
            {
                Assert.False(p.HasExited, "the run ended before it could be killed");
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), "no subject measured within 60 s");
                await Task.Delay(20);
            }
            p.Kill(entireProcessTree: false);   // SIGKILL: no chance to clean up
            await p.WaitForExitAsync();
            Assert.Equal(137, p.ExitCode);
        }
        var committedAtKill = CommittedResults(d);
        var markersAtKill = TestInputs.CountMarkers(d["markers.txt"]);
        Assert.InRange(committedAtKill.Length, 1, n - 1);
        var state = RunState.TryLoad(RunState.StatePath(d["out"]))!;
        Assert.Equal(RunState.Measuring, state.Status);   // the coordinator never got to say goodbye

        var rerun = await RunToEnd(d, 0, "run", d.FullName, "--jobs", "2");
        Assert.True(rerun.Code == 0, rerun.Stderr + rerun.Stdout);
        var markers = TestInputs.CountMarkers(d["markers.txt"]);
        Assert.Equal(n, markers.Count);
        // a subject whose result was written before the kill was never measured again
        foreach (var id in committedAtKill) Assert.Equal(1, markers[id]);
        // a second measurement happens only for a subject that was in flight at the kill (measured, not yet committed)
        var twice = markers.Where(kv => kv.Value > 1).Select(kv => kv.Key).ToList();
        Assert.All(twice, id => Assert.True(markersAtKill.ContainsKey(id) && !committedAtKill.Contains(id), $"{id} measured twice"));
        Assert.True(twice.Count <= 2, "more re-measurements than subjects in flight");
        Assert.Contains("resuming run " + state.RunId, rerun.Stdout);
        var finalState = RunState.TryLoad(RunState.StatePath(d["out"]))!;
        Assert.Equal(state.RunId, finalState.RunId);
        Assert.Equal(RunState.Completed, finalState.Status);

        // the same cohort, uninterrupted, in another folder: identical tables
        using var d2 = new TempDir("cli-straight");
        TestInputs.WriteCohort(d2.FullName, n);
        var straight = await RunToEnd(d2, 0, "run", d2.FullName);
        Assert.Equal(0, straight.Code);
        Assert.Equal(n, TestInputs.CountMarkers(d2["markers.txt"]).Values.Sum());
        foreach (var f in new[] { "measures.csv", "stats.csv", "descriptives.csv" })
            Assert.Equal(File.ReadAllText(d2["out/group/" + f]), File.ReadAllText(d["out/group/" + f]));
    }

    [Fact]
    public async Task Exit_0_prints_the_group_table_then_a_rerun_measures_nothing()
    {
        using var d = new TempDir("cli-ok");
        TestInputs.WriteCohort(d.FullName, 6);
        var r = await RunToEnd(d, 0, "run", d.FullName);
        Assert.True(r.Code == 0, r.Stderr + r.Stdout);
        Assert.Contains("groups (group): control vs patient", r.Stdout);
        Assert.Contains("welch_t", r.Stdout);
        Assert.Contains("6 of 6 subjects measured (0 from cache), 0 failed", r.Stdout);
        Assert.Contains("group/report.html", r.Stdout);
        var again = await RunToEnd(d, 0, "run", d.FullName);
        Assert.Equal(0, again.Code);
        Assert.Contains("6 of 6 subjects measured (6 from cache), 0 failed", again.Stdout);
        Assert.Equal(6, TestInputs.CountMarkers(d["markers.txt"]).Values.Sum());
        Assert.Equal(2, Directory.GetFiles(d["out/runs"], "2*.json").Length);   // one record per run
    }

    [Fact]
    public async Task A_corrupt_input_and_a_missing_file_exit_3_listing_both_by_id_and_reason()
    {
        using var d = new TempDir("cli-fail");
        TestInputs.WriteCohort(d.FullName, 6, corrupt: new[] { "02" }, missing: new[] { "42" });
        var r = await RunToEnd(d, 0, "run", d.FullName);
        Assert.Equal(3, r.Code);
        Assert.Contains("2 subjects failed:", r.Stderr);
        Assert.Contains($"  02: {d["data/sub-02_T1w.nii"]}: not a test volume (wrong magic)", r.Stderr);
        Assert.Contains($"  42: input file not found: {d["data/sub-42_T1w.nii"]}", r.Stderr);
        Assert.Contains("5 of 7 subjects measured", r.Stdout);
        Assert.DoesNotContain("   at ", r.Stderr);   // no stack trace
        var html = File.ReadAllText(d["out/group/report.html"]);
        Assert.Contains("not a test volume (wrong magic)", html);
        Assert.Contains("input file not found", html);
    }

    [Fact]
    public async Task A_bad_manifest_exits_2_with_one_line()
    {
        using var d = new TempDir("cli-bad");
        TestInputs.WriteCohort(d.FullName, 2);
        File.WriteAllText(d["cohort.json"], File.ReadAllText(d["cohort.json"]).Replace("\"output\": \"out\"", "\"output\": \"../../somewhere\""));
        var r = await RunToEnd(d, 0, "run", d.FullName);
        Assert.Equal(2, r.Code);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("output: path '../../somewhere'", line);
        Assert.Contains("outside the dataset root", line);
        var missing = await RunToEnd(d, 0, "run", d["no-such-cohort"]);
        Assert.Equal(2, missing.Code);
        Assert.Contains("cohort not found", missing.Stderr);
    }

    [Fact]
    public async Task Ctrl_C_stops_cleanly_with_exit_130_and_the_rerun_resumes()
    {
        using var d = new TempDir("cli-int");
        TestInputs.WriteCohort(d.FullName, 12);
        int code;
        string stderr;
        using (var p = Start(d, 400, "run", d.FullName, "--jobs", "2"))
        {
            _ = p.StandardOutput.ReadToEndAsync();
            var se = p.StandardError.ReadToEndAsync();
            var sw = Stopwatch.StartNew();
            while (TestInputs.CountMarkers(d["markers.txt"]).Values.Sum() < 2)
            {
                Assert.False(p.HasExited);
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60));
                await Task.Delay(20);
            }
            ExternalTool.Check("kill", new[] { "-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await p.WaitForExitAsync(limit.Token);
            code = p.ExitCode;
            stderr = await se;
        }
        Assert.Equal(130, code);
        Assert.Contains("run the same command again to resume", stderr);
        var state = RunState.TryLoad(RunState.StatePath(d["out"]))!;
        Assert.Equal(RunState.Interrupted, state.Status);
        Assert.DoesNotContain(state.Subjects, s => s.Status == SubjectStatus.Running);
        var committed = CommittedResults(d);
        var r = await RunToEnd(d, 0, "run", d.FullName);
        Assert.Equal(0, r.Code);
        var markers = TestInputs.CountMarkers(d["markers.txt"]);
        foreach (var id in committed) Assert.Equal(1, markers[id]);
        Assert.Equal(12, markers.Count);
    }
}
