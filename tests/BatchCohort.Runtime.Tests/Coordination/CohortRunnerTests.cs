using System.Text.Json.Nodes;
using BatchCohort.Contracts;
using BatchCohort.Host;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Coordination;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Coordination;

/// <summary>The runtime end to end in one process (a real embedded Orleans silo), with the test-only measurer.</summary>
public class CohortRunnerTests
{
    private static CountingTestMeasurer Measurer(TempDir d, string version = "p1", int delayMs = 0) => new(d["markers.txt"], delayMs, version);

    private static Task<CohortRunOutcome> Run(TempDir d, CountingTestMeasurer m, int jobs = 3, CancellationToken ct = default) =>
        new CohortRunner(m).RunAsync(d.FullName, new CohortRunOptions { Jobs = jobs }, ct);

    private static string Out(TempDir d, params string[] p) => Path.Combine(new[] { d.FullName, "out" }.Concat(p).ToArray());

    [Fact]
    public async Task First_run_measures_every_subject_once_and_a_rerun_finds_every_result_and_skips()
    {
        using var d = new TempDir("run");
        var ids = TestInputs.WriteCohort(d.FullName, 6);
        var m1 = Measurer(d);
        var o1 = await Run(d, m1);
        Assert.False(o1.Interrupted);
        foreach (var f in o1.Failed) Assert.Fail(f.Id + ": " + f.Reason);
        Assert.Equal(6, m1.Calls);
        Assert.All(o1.State.Subjects, s => Assert.Equal(SubjectStatus.Done, s.Status));
        Assert.All(o1.State.Subjects, s => Assert.False(s.FromCache));
        Assert.Equal(RunState.Completed, o1.State.Status);
        foreach (var id in ids)
        {
            var r = ResultStore.TryLoadValid(Out(d, $"sub-{id}", "anat", $"sub-{id}_measures.json"), null);
            Assert.NotNull(r);
            Assert.True(File.Exists(Out(d, $"sub-{id}", "anat", $"sub-{id}_qc.png")));
        }
        // the run record and the BIDS derivatives description
        var record = RunState.TryLoad(Out(d, "runs", o1.State.RunId + ".json"))!;
        Assert.Equal(6, record.Subjects.Count(s => s.Status == SubjectStatus.Done));
        Assert.All(record.Subjects, s => Assert.NotNull(s.Seconds));
        var dd = JsonNode.Parse(File.ReadAllText(Out(d, "dataset_description.json")))!;
        Assert.Equal("derivative", (string)dd["DatasetType"]!);
        Assert.Equal("BatchCohort", (string)dd["GeneratedBy"]![0]!["Name"]!);
        Assert.Equal(o1.State.PipelineHash, (string)dd["GeneratedBy"]![0]!["PipelineHash"]!);
        Assert.False(string.IsNullOrEmpty((string?)dd["BIDSVersion"]));

        var m2 = Measurer(d);
        var o2 = await Run(d, m2);
        Assert.Equal(0, m2.Calls);
        Assert.All(o2.State.Subjects, s => Assert.True(s.FromCache));
        Assert.NotEqual(o1.State.RunId, o2.State.RunId);
        Assert.All(TestInputs.CountMarkers(d["markers.txt"]).Values, c => Assert.Equal(1, c));
    }

    [Fact]
    public async Task A_changed_input_is_measured_again_and_only_that_one()
    {
        using var d = new TempDir("run");
        TestInputs.WriteCohort(d.FullName, 5);
        await Run(d, Measurer(d));
        File.WriteAllText(d["data/sub-03_T1w.nii"], CountingTestMeasurer.Magic + "\n999\n");
        var m = Measurer(d);
        var o = await Run(d, m);
        Assert.Equal(new[] { "03" }, m.Measured);
        var r = ResultStore.TryLoadValid(Out(d, "sub-03", "anat", "sub-03_measures.json"), null)!;
        Assert.Equal(1400 + 3 * 999.0, r.Measures["icv_ml"]);
        Assert.Equal(4, o.State.Subjects.Count(s => s.FromCache));
    }

    [Fact]
    public async Task Changed_settings_remeasure_every_subject_but_reformatted_settings_do_not()
    {
        using var d = new TempDir("run");
        TestInputs.WriteCohort(d.FullName, 4);
        await Run(d, Measurer(d));
        var manifest = File.ReadAllText(d["cohort.json"]);
        File.WriteAllText(d["cohort.json"], manifest.Replace("\"settings\": { \"scale\": 1.0 }", "\"settings\": {\"scale\":1}"));
        var same = Measurer(d);
        await Run(d, same);
        Assert.Equal(0, same.Calls);
        File.WriteAllText(d["cohort.json"], manifest.Replace("\"settings\": { \"scale\": 1.0 }", "\"settings\": { \"scale\": 2.0 }"));
        var changed = Measurer(d);
        await Run(d, changed);
        Assert.Equal(4, changed.Calls);
        var r = ResultStore.TryLoadValid(Out(d, "sub-01", "anat", "sub-01_measures.json"), null)!;
        Assert.Equal(2 * (1000 + 2 * 10.0), r.Measures["brain_ml"]);
    }

    [Fact]
    public async Task A_new_pipeline_version_remeasures_every_subject()
    {
        using var d = new TempDir("run");
        TestInputs.WriteCohort(d.FullName, 3);
        await Run(d, Measurer(d, "p1"));
        var m = Measurer(d, "p2");
        var o = await Run(d, m);
        Assert.Equal(3, m.Calls);
        Assert.Equal("p2", o.State.PipelineVersion);
    }

    [Fact]
    public async Task A_result_whose_derivative_file_was_deleted_is_measured_again()
    {
        using var d = new TempDir("run");
        TestInputs.WriteCohort(d.FullName, 3);
        await Run(d, Measurer(d));
        File.Delete(Out(d, "sub-02", "anat", "sub-02_qc.png"));
        var m = Measurer(d);
        await Run(d, m);
        Assert.Equal(new[] { "02" }, m.Measured);
    }

    [Fact]
    public async Task A_corrupt_input_and_a_missing_file_fail_with_their_reasons_and_everything_else_completes()
    {
        using var d = new TempDir("run");
        TestInputs.WriteCohort(d.FullName, 6, corrupt: new[] { "04" }, missing: new[] { "77" });
        var m = Measurer(d);
        var o = await Run(d, m);
        Assert.Equal(5, m.Calls);
        var failed = o.Failed.ToDictionary(s => s.Id);
        Assert.Equal(new[] { "04", "77" }, failed.Keys.Order());
        Assert.Equal("input-unreadable", failed["04"].FailureKind);
        Assert.Contains("sub-04_T1w.nii", failed["04"].Reason);
        Assert.Contains("wrong magic", failed["04"].Reason);
        Assert.Equal("input-missing", failed["77"].FailureKind);
        Assert.Equal($"input file not found: {d["data/sub-77_T1w.nii"]}", failed["77"].Reason);
        Assert.Equal(5, o.State.Subjects.Count(s => s.Status == SubjectStatus.Done));
        var record = RunState.TryLoad(o.RunRecordPath)!;
        Assert.Equal(failed["04"].Reason, record.Subjects.Single(s => s.Id == "04").Reason);
        // failures are not cached: the next run tries them again (and they fail again), the rest are cache hits
        var m2 = Measurer(d);
        var o2 = await Run(d, m2);
        Assert.Equal(0, m2.Calls);
        Assert.Equal(2, o2.Failed.Count);
    }

    [Fact]
    public async Task Cancelled_midway_the_run_resumes_redoing_only_unfinished_subjects()
    {
        using var d = new TempDir("run");
        TestInputs.WriteCohort(d.FullName, 10);
        using var cts = new CancellationTokenSource();
        var m1 = Measurer(d, delayMs: 250);
        var task = Run(d, m1, jobs: 2, ct: cts.Token);
        while (m1.Calls < 3) await Task.Delay(20);
        cts.Cancel();
        var o1 = await task;
        Assert.True(o1.Interrupted);
        var state = RunState.TryLoad(RunState.StatePath(Out(d)))!;
        Assert.Equal(RunState.Interrupted, state.Status);
        Assert.DoesNotContain(state.Subjects, s => s.Status == SubjectStatus.Running);
        var doneAtStop = Directory.EnumerateFiles(Out(d), "*_measures.json", SearchOption.AllDirectories).Count();
        Assert.InRange(doneAtStop, 3, 9);

        var m2 = Measurer(d, delayMs: 0);
        var o2 = await Run(d, m2, jobs: 2);
        Assert.False(o2.Interrupted);
        Assert.True(o2.Resumed);
        Assert.Equal(o1.State.RunId, o2.State.RunId);
        Assert.Single(o2.State.ResumedAt);
        Assert.Equal(10 - doneAtStop, m2.Calls);
        Assert.Empty(m1.Measured.Intersect(m2.Measured));
        Assert.All(TestInputs.CountMarkers(d["markers.txt"]).Values, c => Assert.Equal(1, c));
        Assert.Equal(10, TestInputs.CountMarkers(d["markers.txt"]).Count);
    }

    /// <summary>Test-only: records how many subjects are measured at once.</summary>
    /// <summary>Records the peak number of subjects measured at once. Each subject holds on until the expected peak
    /// has been seen (or 20 s passed), so the peak does not depend on how loaded the machine is.</summary>
    private sealed class ConcurrencyProbe(int expected) : BatchCohort.Runtime.Measurement.ISubjectMeasurer
    {
        private int _now;
        public int Max;
        public string PipelineVersion => "probe";
        public async Task<BatchCohort.Runtime.Measurement.MeasurerOutput> MeasureAsync(BatchCohort.Runtime.Measurement.SubjectWork work, CancellationToken ct)
        {
            int n = Interlocked.Increment(ref _now);
            int m;
            while ((m = Volatile.Read(ref Max)) < n && Interlocked.CompareExchange(ref Max, n, m) != m) { }
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref Max) < expected && waited.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(5, ct);
            await Task.Delay(30, ct);
            Interlocked.Decrement(ref _now);
            return new() { Measures = new[] { new KeyValuePair<string, double?>("x", 1.0) } };
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Subjects_are_measured_jobs_at_a_time(int jobs)
    {
        using var d = new TempDir("run");
        TestInputs.WriteCohort(d.FullName, 12);
        var probe = new ConcurrencyProbe(jobs);
        var o = await new CohortRunner(probe).RunAsync(d.FullName, new CohortRunOptions { Jobs = jobs });
        Assert.Empty(o.Failed);
        Assert.Equal(jobs, probe.Max);
        Assert.Equal(jobs, o.State.Jobs);
    }

    [Fact]
    public void The_coordinator_ignores_duplicate_stale_and_foreign_reports_and_retries_a_failure_at_most_max_attempts()
    {
        using var d = new TempDir("coord");
        var state = new RunState
        {
            RunId = "r1", Cohort = "c", Manifest = "m", PipelineVersion = "p", SettingsHash = "s", PipelineHash = "h", Generator = "g",
            StartedAt = DateTimeOffset.UtcNow, MaxAttempts = 2,
            Subjects = { new SubjectState { Id = "a", Label = "a" }, new SubjectState { Id = "b", Label = "b" }, new SubjectState { Id = "c", Label = "c" } },
        };
        var c = new RunLedger(state);
        var now = DateTimeOffset.UtcNow;
        SubjectReport Measured(string run, string id, int attempt = 1) => new(run, id, attempt, SubjectOutcome.Measured, "silo1", 1, CacheKey: "k", Result: "file:///x");
        SubjectReport Failed(string id, int attempt, string kind, string why, string silo = "silo1") => new("r1", id, attempt, SubjectOutcome.Failed, silo, 0, FailureKind: kind, Reason: why);
        Assert.Equal(new[] { "a", "b" }, c.Lease("silo1", 2, now).Select(s => s.Id));
        Assert.False(c.Apply(Measured("other-run", "a"), now));
        Assert.False(c.Apply(Measured("r1", "zzz"), now));
        Assert.Equal(2, c.Snapshot().Running);
        Assert.True(c.Apply(Measured("r1", "a"), now));
        Assert.False(c.Apply(Measured("r1", "a"), now));
        Assert.False(c.Apply(Failed("a", 1, "measurement", "late duplicate"), now));
        var p = c.Snapshot();
        Assert.Equal((1, 0, 1, 1), (p.Done, p.Failed, p.Running, p.Pending));
        // a failure that may be the silo's: back to pending, kept from that silo for a moment, taken by another
        Assert.True(c.Apply(Failed("b", 1, "internal", "out of disk on silo1"), now));
        Assert.Equal(SubjectStatus.Pending, state.Subjects[1].Status);
        Assert.Equal(new[] { "c" }, c.Lease("silo1", 5, now).Select(s => s.Id));
        var retry = Assert.Single(c.Lease("silo2", 5, now));
        Assert.Equal(("b", 2), (retry.Id, retry.Attempts));
        Assert.False(c.Apply(Failed("b", 1, "internal", "stale attempt"), now));
        Assert.True(c.Apply(Failed("b", 2, "internal", "out of disk on silo2", "silo2"), now));
        Assert.Equal(SubjectStatus.Failed, state.Subjects[1].Status);   // MaxAttempts = 2
        Assert.Equal("out of disk on silo2 (failed 2 times)", state.Subjects[1].Reason);
        // a bad input is not retried
        Assert.True(c.Apply(Failed("c", 1, "input-unreadable", "wrong magic"), now));
        Assert.Equal(SubjectStatus.Failed, state.Subjects[2].Status);
        Assert.True(c.Settled);
        Assert.Equal(new[] { "b", "c" }, c.Failures.Select(f => f.SubjectId));
    }

    [Fact]
    public void Subjects_of_a_dead_silo_go_back_to_pending_and_fail_after_max_attempts()
    {
        var state = new RunState { RunId = "r1", StartedAt = DateTimeOffset.UtcNow, MaxAttempts = 2, Subjects = { new SubjectState { Id = "a", Label = "a" } } };
        var c = new RunLedger(state);
        var now = DateTimeOffset.UtcNow;
        c.Lease("s1", 1, now);
        Assert.Equal(0, c.Requeue(s => s == "s2", now));
        Assert.Equal(1, c.Requeue(s => s == "s1", now));
        Assert.Equal(SubjectStatus.Pending, state.Subjects[0].Status);
        c.Lease("s2", 1, now);
        Assert.Equal(1, c.Requeue(s => s == "s2", now));
        Assert.Equal(SubjectStatus.Failed, state.Subjects[0].Status);
        Assert.Equal("gave up after 2 attempts: its silo s2 stopped", state.Subjects[0].Reason);
    }
}
