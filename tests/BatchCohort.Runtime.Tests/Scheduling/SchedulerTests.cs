using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Scheduling;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;

namespace BatchCohort.Runtime.Tests.Scheduling;

/// <summary>
/// The scheduler over real files (the embedded store) with a controllable clock and an engine stand-in whose runs end
/// when the test says so: fires at its time, skips while a run of the cohort is going, survives a restart (a new
/// scheduler over the same folder neither repeats a night nor forgets one), resumes a run cut short by a crash.
/// </summary>
public class SchedulerTests
{
    /// <summary>An engine whose runs last until released; "going" as long as one is in flight.</summary>
    private sealed class GatedLauncher : IRunLauncher
    {
        private readonly object _lock = new();
        private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Started;
        public bool Going;
        public bool Gated { get; set; }

        public void Release() { lock (_lock) { _gate.TrySetResult(); _gate = new(TaskCreationOptions.RunContinuationsAsynchronously); } }

        public async Task<LaunchedRun> RunAsync(RunRequest request, CancellationToken ct)
        {
            Task wait;
            lock (_lock) { Started++; Going = true; wait = Gated ? _gate.Task : Task.CompletedTask; }
            await wait.WaitAsync(ct);
            lock (_lock) Going = false;
            var now = DateTimeOffset.UtcNow;
            var state = new RunState
            {
                RunId = RunState.NewRunId(now), Cohort = "c", Manifest = request.Cohort, PipelineVersion = "p", SettingsHash = "s",
                PipelineHash = "h", Generator = "test", StartedAt = now, FinishedAt = now, Status = RunState.Completed,
            };
            return new LaunchedRun(state, false, Path.GetDirectoryName(request.Cohort)!);
        }

        public bool IsRunning(string cohort) { lock (_lock) return Going; }
        public RunState? Status(string cohort) => null;
    }

    private sealed class NoPublisher : IExportPublisher
    {
        public Task<string> PublishAsync(PublishRequest request, CancellationToken ct) => Task.FromResult("nowhere");
    }

    private static DateTimeOffset T(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    private static (ScheduleStore Store, ScheduleSpec Spec) Setup(TempDir d, string at = "02:00", string zone = "UTC", string created = "2026-12-01T12:00:00Z")
    {
        TestInputs.WriteCohort(d["cohort"], 2);
        var store = new ScheduleStore(d["home"]);
        var spec = new ScheduleSpec
        {
            Id = store.NewId("test-cohort"), Cohort = Path.Combine(d["cohort"], "cohort.json"), CohortName = "test-cohort", At = at, TimeZone = zone,
            CreatedAt = T(created),
        };
        store.Add(spec);
        return (store, spec);
    }

    private static Scheduler NewScheduler(TempDir d, IRunLauncher launcher, TimeProvider clock, List<string>? log = null) =>
        new(new ScheduleStore(d["home"]), launcher, new NightlyJob(new ScheduleStore(d["home"]), launcher, new NoPublisher(), clock), clock, s => { lock (log ?? new()) log?.Add(s); });

    [Fact]
    public async Task Fires_at_its_time_once_and_a_restarted_scheduler_neither_repeats_nor_forgets_a_night()
    {
        using var d = new TempDir("sched");
        var (store, spec) = Setup(d);
        var clock = new ManualTimeProvider(T("2026-12-02T01:59:00Z"));
        var launcher = new GatedLauncher();
        var a = NewScheduler(d, launcher, clock);
        Assert.Empty(a.Tick());
        clock.Set(T("2026-12-02T02:00:00Z"));
        var runs = a.Tick();
        var rec = Assert.Single(await Task.WhenAll(runs));
        Assert.Equal(NightOutcome.Succeeded, rec!.Outcome);
        Assert.Equal(new DateOnly(2026, 12, 2), rec.Night);
        clock.Set(T("2026-12-02T02:01:00Z"));
        Assert.Empty(a.Tick());

        // "restart": a new scheduler and store over the same folder, same night → nothing; the next night → fires
        var b = NewScheduler(d, launcher, clock);
        clock.Set(T("2026-12-02T13:00:00Z"));
        Assert.Empty(b.Tick());
        clock.Set(T("2026-12-03T02:00:30Z"));
        Assert.Single(await Task.WhenAll(b.Tick()));
        Assert.Equal(2, launcher.Started);
        var state = store.LoadState(spec.Id);
        Assert.Equal(new DateOnly(2026, 12, 3), state.LastNight);
        Assert.Equal(NightOutcome.Succeeded, state.LastOutcome);
        Assert.Equal(2, store.History(spec.Id).Count);
    }

    [Fact]
    public async Task A_night_due_while_the_previous_run_is_still_going_is_skipped_and_noted_and_the_next_night_runs()
    {
        using var d = new TempDir("sched");
        var (store, spec) = Setup(d);
        var clock = new ManualTimeProvider(T("2026-12-02T02:00:00Z"));
        var launcher = new GatedLauncher { Gated = true };
        var s = NewScheduler(d, launcher, clock);
        var first = Assert.Single(s.Tick());
        while (!launcher.IsRunning(spec.Cohort)) await Task.Delay(10);
        // the run of the 2nd is still going at 02:00 on the 3rd: that night is skipped (not queued)
        clock.Set(T("2026-12-03T02:00:00Z"));
        // a second scheduler (e.g. a restarted process) sees the same engine state
        var other = NewScheduler(d, launcher, clock);
        Assert.Empty(other.Tick());
        var st = store.LoadState(spec.Id);
        Assert.Equal(new DateOnly(2026, 12, 3), st.LastNight);
        Assert.Contains(st.Notes, n => n.StartsWith("2026-12-03: skipped: the previous run of this cohort was still going", StringComparison.Ordinal));
        launcher.Release();
        Assert.NotNull(await first);
        clock.Set(T("2026-12-03T09:00:00Z"));
        Assert.Empty(s.Tick());                         // the skipped night is not made up later
        launcher.Gated = false;
        clock.Set(T("2026-12-04T02:00:00Z"));
        Assert.Single(await Task.WhenAll(s.Tick()));    // the next night runs
        Assert.Equal(2, launcher.Started);
    }

    [Fact]
    public async Task A_run_cut_short_by_the_process_dying_is_resumed_once_at_the_next_start()
    {
        using var d = new TempDir("sched");
        var (store, spec) = Setup(d);
        var clock = new ManualTimeProvider(T("2026-12-02T02:00:00Z"));
        var dying = new GatedLauncher { Gated = true };
        using var cts = new CancellationTokenSource();
        var a = NewScheduler(d, dying, clock);
        var cut = Assert.Single(a.Tick(cts.Token));
        while (!dying.IsRunning(spec.Cohort)) await Task.Delay(10);
        Assert.Equal(Scheduler.Running, store.LoadState(spec.Id).LastOutcome);
        cts.Cancel();                                   // the process goes away mid-run
        Assert.Null(await cut);
        Assert.Equal(Scheduler.Running, store.LoadState(spec.Id).LastOutcome);

        clock.Set(T("2026-12-02T07:00:00Z"));
        var fresh = new GatedLauncher();
        var b = NewScheduler(d, fresh, clock);
        var resumed = Assert.Single(await Task.WhenAll(b.Tick()));
        Assert.Equal(new DateOnly(2026, 12, 2), resumed!.Night);
        Assert.Empty(b.Tick());
        Assert.Equal(1, fresh.Started);
        Assert.Contains(store.LoadState(spec.Id).Notes, n => n == "2026-12-02: resumed after a restart");
    }

    [Fact]
    public void A_removed_schedule_stops_firing_and_its_state_is_not_written_back()
    {
        using var d = new TempDir("sched");
        var (store, spec) = Setup(d);
        Assert.True(store.Remove(spec.Id));
        var s = NewScheduler(d, new GatedLauncher(), new ManualTimeProvider(T("2026-12-02T02:00:00Z")));
        Assert.Empty(s.Tick());
        store.SaveState(spec.Id, new ScheduleState { LastNight = new DateOnly(2026, 12, 2) });
        Assert.Empty(Directory.GetFiles(d["home/schedules"]));
        Assert.False(store.Remove(spec.Id));
    }

    [Fact]
    public void The_run_lock_is_exclusive_within_and_across_holders_and_released_on_dispose()
    {
        using var d = new TempDir("lock");
        var first = RunLock.TryAcquire(d.FullName);
        Assert.NotNull(first);
        Assert.Null(RunLock.TryAcquire(d.FullName));
        first!.Dispose();
        using var again = RunLock.TryAcquire(d.FullName);
        Assert.NotNull(again);
    }
}
