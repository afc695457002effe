using System.Globalization;
using System.Text.Json;
using BatchCohort.Contracts;
using BatchCohort.Runtime;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Measurement;
using BatchCohort.Runtime.Scheduling;
using BatchCohort.Runtime.Storage;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace BatchCohort.Grains;

/// <summary>
/// The clock and periods of cluster schedules, registered in every silo. Production: the system clock, a reminder every
/// minute (Orleans' minimum), a follow timer every 5 s while a run is going. Tests replace the clock with one read from
/// a file (<see cref="FileClock"/>) and may shorten the reminder period, so a real-process test does not wait until 02:00.
/// </summary>
public sealed class ScheduleTiming
{
    public const string ClockFileVariable = "BATCHCOHORT_TEST_CLOCK_FILE";
    public const string ReminderSecondsVariable = "BATCHCOHORT_TEST_REMINDER_SECONDS";

    public TimeProvider Clock { get; init; } = TimeProvider.System;
    public TimeSpan ReminderPeriod { get; init; } = TimeSpan.FromMinutes(1);
    public TimeSpan FollowPeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Production values, unless the test-only variables say otherwise.</summary>
    public static ScheduleTiming FromEnvironment()
    {
        var clockFile = Environment.GetEnvironmentVariable(ClockFileVariable);
        var seconds = Environment.GetEnvironmentVariable(ReminderSecondsVariable);
        var t = new ScheduleTiming();
        if (!string.IsNullOrWhiteSpace(clockFile)) t = new ScheduleTiming { Clock = new FileClock(clockFile), ReminderPeriod = t.ReminderPeriod, FollowPeriod = TimeSpan.FromSeconds(1) };
        if (double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 1)
            t = new ScheduleTiming { Clock = t.Clock, ReminderPeriod = TimeSpan.FromSeconds(s), FollowPeriod = t.FollowPeriod };
        return t;
    }
}

/// <summary>
/// Test-only clock: the file holds an ISO 8601 instant; "now" is that instant plus the real time elapsed since the file
/// was written (so a test moves the cluster's clock by rewriting the file, and it runs on from there). No file: the
/// system clock.
/// </summary>
public sealed class FileClock(string path) : TimeProvider
{
    private readonly object _gate = new();
    private (DateTime Stamp, DateTimeOffset Instant)? _cached;

    public override DateTimeOffset GetUtcNow()
    {
        try
        {
            var stamp = File.GetLastWriteTimeUtc(path);
            if (!File.Exists(path)) return System.GetUtcNow();
            lock (_gate)
            {
                var c = _cached;
                if (c is null || c.Value.Stamp != stamp)
                {
                    var text = File.ReadAllText(path).Trim();
                    if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)) return System.GetUtcNow();
                    c = (stamp, instant);
                    _cached = c;
                }
                return c.Value.Instant + (DateTime.UtcNow - c.Value.Stamp);
            }
        }
        catch (IOException) { return System.GetUtcNow(); }
    }
}

/// <summary>The schedule grain's persisted state (JSON in Redis or Azure blobs, like the run state).</summary>
public sealed class ScheduleGrainState
{
    /// <summary>The schedule; null when it was removed (or never added).</summary>
    public ScheduleSpec? Spec { get; set; }
    public ScheduleState Memory { get; set; } = new();
    /// <summary>The run this schedule started and has not recorded yet (survives every silo's restart).</summary>
    public CurrentNight? Current { get; set; }
    /// <summary>Newest first, at most <see cref="ScheduleGrain.KeepHistory"/>.</summary>
    public List<NightRecord> History { get; set; } = new();
}

/// <summary>A night (or run-now) in progress: marked before the run is submitted, the run id added once it is.</summary>
public sealed record CurrentNight(DateOnly? Night, string Trigger, DateTimeOffset StartedAt, string? RunId = null, string? OutputDirectory = null);

/// <summary>
/// A cluster's nightly schedule (key: its id). An Orleans reminder (durable in the cluster's backend, ticking about every
/// minute, missed ticks skipped, not replayed) wakes it on whichever silo is alive; each tick asks the pure rules
/// (<see cref="ScheduleRules"/>, the same as embedded mode) whether tonight's run is due given what the grain remembers.
/// The night is marked handled and persisted <em>before</em> the run is submitted, and the run id after, so:
/// a tick that comes twice or late, or after every silo restarted, starts a night at most once; a night marked but not
/// yet submitted (the silo died in between) is submitted by the next tick — the cohort grain makes a duplicate
/// submission the same run. While the run goes, a timer (and the reminder) follow it; when it has ended, the grain
/// records the night as embedded mode does (<see cref="NightlyJob.CompleteAsync"/>: changes, exports, webhook).
/// </summary>
[GrainType("schedule")]
public sealed class ScheduleGrain(
    [PersistentState("schedule", "runs")] IPersistentState<ScheduleGrainState> store,
    ScheduleTiming timing, ISubjectMeasurer measurer, ILogger<ScheduleGrain> log)
    : Grain, IScheduleGrain, IRemindable
{
    public const string ReminderName = "nightly";
    public const int KeepHistory = 60;

    private IGrainTimer? _follow;
    private DateTimeOffset Now => timing.Clock.GetUtcNow();
    private ScheduleGrainState S => store.State;
    private string Id => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Current is not null) StartFollowing();
        return Task.CompletedTask;
    }

    public async Task<string> Add(string specJson)
    {
        var spec = JsonSerializer.Deserialize<ScheduleSpec>(specJson, Json.Options) ?? throw new ArgumentException("no schedule given");
        if (spec.Id != Id) throw new ArgumentException($"schedule id {spec.Id} does not match the grain {Id}");
        if (S.Spec is { } existing) throw new ArgumentException($"schedule {Id} exists already (cohort {existing.CohortName})");
        _ = spec.Zone;
        _ = spec.LocalTime;
        S.Spec = spec with { CreatedAt = Now };
        S.Memory = new ScheduleState();
        S.Current = null;
        await store.WriteStateAsync();
        await this.RegisterOrUpdateReminder(ReminderName, timing.ReminderPeriod, timing.ReminderPeriod);
        await GrainFactory.GetGrain<IScheduleDirectoryGrain>(0).Put(Id);
        return Info();
    }

    public async Task<bool> Remove()
    {
        var had = S.Spec is not null;
        S.Spec = null;
        S.Current = null;
        await store.WriteStateAsync();
        StopFollowing();
        try
        {
            if (await this.GetReminder(ReminderName) is { } r) await this.UnregisterReminder(r);
        }
        catch (Exception e) when (e is ReminderException or OrleansException) { log.LogWarning("schedule {Id}: reminder not removed: {Error}", Id, e.Message); }
        await GrainFactory.GetGrain<IScheduleDirectoryGrain>(0).Drop(Id);
        return had;
    }

    public Task<string?> Describe() => Task.FromResult(S.Spec is null ? null : Info());

    private string Info()
    {
        var spec = S.Spec!;
        DateTimeOffset? next = null;
        string? problem = null;
        try { next = ScheduleRules.NextRun(spec, S.Memory, Now); }
        catch (ArgumentException e) { problem = e.Message; }
        return JsonSerializer.Serialize(new ScheduleInfo
        {
            Spec = spec, State = S.Memory, NextRun = next, RunningRunId = S.Current?.RunId, History = S.History, Problem = problem,
        }, Json.Options);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => reminderName == ReminderName ? TickAsync() : Task.CompletedTask;

    public Task Tick() => TickAsync();

    public async Task<string> RunNow()
    {
        if (S.Spec is not { } spec) throw new ArgumentException($"no schedule {Id}");
        if (S.Current is { } cur) return $"a run of this schedule is still going ({cur.RunId ?? "starting"})";
        if (await CohortRunGoingAsync(spec) is { } other) return $"a run of this cohort is still going ({other})";
        // marked now, planned and submitted by the follow timer at once (planning a large cohort outlasts a call)
        S.Current = new CurrentNight(null, NightlyJob.RunNow, Now);
        await store.WriteStateAsync();
        StartFollowing(at: TimeSpan.Zero);
        return $"started a run of {Id}";
    }

    private async Task TickAsync()
    {
        if (S.Spec is not { } spec)
        {
            // removed: a tick from a reminder that outlived its schedule ends it
            try { if (await this.GetReminder(ReminderName) is { } r) await this.UnregisterReminder(r); }
            catch (Exception e) when (e is ReminderException or OrleansException) { }
            return;
        }
        if (S.Current is { } cur)
        {
            if (cur.RunId is null)
            {
                // marked, never submitted (the silo went away in between): submit it now
                log.LogInformation("schedule {Id}: submitting the run marked for {Night} (not submitted before)", Id, cur.Night?.ToString("yyyy-MM-dd") ?? cur.Trigger);
                await SubmitAsync(spec);
            }
            else await FollowAsync(spec, cur);
        }
        var now = Now;
        var going = S.Current?.RunId ?? await CohortRunGoingAsync(spec);
        ScheduleDecision decision;
        try { decision = ScheduleRules.Evaluate(spec, S.Memory, now, going is not null); }
        catch (ArgumentException e)
        {
            log.LogWarning("schedule {Id}: {Error}", Id, e.Message);
            return;
        }
        switch (decision.Action)
        {
            case ScheduleAction.Skip:
                log.LogInformation("schedule {Id}: {Night} skipped: {Reason}", Id, decision.Night, decision.Reason);
                S.Memory = S.Memory.WithNote($"{decision.Night:yyyy-MM-dd}: skipped: {decision.Reason}") with { LastNight = decision.Night };
                await store.WriteStateAsync();
                break;
            case ScheduleAction.Fire:
                log.LogInformation("schedule {Id}: starting the run for {Night} ({Cohort})", Id, decision.Night, spec.CohortName);
                // the night is handled from now on, whatever happens next (persisted before the run is submitted)
                S.Memory = S.Memory with { LastNight = decision.Night, LastTriggeredAt = now, LastOutcome = Scheduler.Running, LastSummary = null };
                S.Current = new CurrentNight(decision.Night, NightlyJob.Scheduled, now);
                await store.WriteStateAsync();
                await SubmitAsync(spec);
                break;
        }
    }

    /// <summary>Plans the run on this silo (the cohort is re-discovered: new and changed subjects are measured, the
    /// rest are cache hits) and submits it to the cohort grain. Returns the run id, or null when it could not start (recorded).</summary>
    private async Task<string?> SubmitAsync(ScheduleSpec spec)
    {
        var cur = S.Current!;
        try
        {
            var plan = await Task.Run(() => RunPlanner.PlanAsync(spec.Cohort, measurer.PipelineVersion, newRun: false, jobs: null, NullRunObserver.Instance, CancellationToken.None, measurer));
            var ticket = await GrainFactory.GetGrain<ICohortGrain>(plan.Request.OutputDirectory).Submit(plan.Request);
            S.Current = cur with { RunId = ticket.RunId, OutputDirectory = plan.Request.OutputDirectory };
            await store.WriteStateAsync();
            log.LogInformation("schedule {Id}: run {Run} submitted{Note}", Id, ticket.RunId, ticket.AlreadyRunning ? " (already running: the same run)" : "");
            StartFollowing();
            return ticket.RunId;
        }
        catch (Exception e) when (e is not OrleansException and not TimeoutException)
        {
            var job = new NightlyJob(null, null, new StorageExportPublisher(), timing.Clock);
            var failed = job.Failed(spec, cur.Night, cur.Trigger, cur.StartedAt, Math.Round((Now - cur.StartedAt).TotalSeconds, 3), e.Message, null);
            await RecordAsync(spec, await job.NotifyAsync(spec, failed, CancellationToken.None));
            return null;
        }
    }

    private async Task FollowAsync(ScheduleSpec spec, CurrentNight cur)
    {
        Contracts.RunView? view;
        try { view = await GrainFactory.GetGrain<ICohortRunGrain>(cur.RunId!).GetView(); }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            log.LogInformation("schedule {Id}: run {Run} not reachable yet: {Error}", Id, cur.RunId, e.Message);
            return;
        }
        if (view is not null && view.Status is RunState.Measuring or RunState.Grouping) return;
        var job = new NightlyJob(null, null, new StorageExportPublisher(), timing.Clock);
        NightRecord rec;
        if (view is null)
            rec = job.Failed(spec, cur.Night, cur.Trigger, cur.StartedAt, Math.Round((Now - cur.StartedAt).TotalSeconds, 3), $"run {cur.RunId} is not known to the cluster", cur.OutputDirectory);
        else
        {
            var state = RunPlanner.FromView(view);
            double measured = Math.Round(((view.FinishedAt ?? DateTimeOffset.UtcNow) - view.StartedAt).TotalSeconds, 3);
            rec = await job.CompleteAsync(spec, cur.Night, cur.Trigger, cur.StartedAt, state, view.OutputDirectory, measured, CancellationToken.None);
        }
        await RecordAsync(spec, rec);
    }

    private async Task RecordAsync(ScheduleSpec spec, NightRecord rec)
    {
        log.LogInformation("schedule {Id}: run {Run} {Outcome}: {Summary}", Id, rec.RunId, rec.Outcome, rec.Summary);
        S.History.RemoveAll(h => h.RunId == rec.RunId);
        S.History.Insert(0, rec);
        if (S.History.Count > KeepHistory) S.History.RemoveRange(KeepHistory, S.History.Count - KeepHistory);
        S.Memory = S.Memory with { LastRunId = rec.RunId, LastOutcome = rec.Outcome, LastSummary = rec.Summary };
        S.Current = null;
        await store.WriteStateAsync();
        StopFollowing();
    }

    /// <summary>The id of a run of this schedule's cohort that is going (any client's), or null.</summary>
    private async Task<string?> CohortRunGoingAsync(ScheduleSpec spec)
    {
        string outDir;
        try { outDir = Runtime.Cohorts.CohortManifest.Load(spec.Cohort).OutputDirectory; }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return null; }
        var runs = await GrainFactory.GetGrain<IRunDirectoryGrain>(0).List();
        return runs.FirstOrDefault(r => r.OutputDirectory == outDir && r.Status is RunState.Measuring or RunState.Grouping)?.RunId;
    }

    private void StartFollowing(TimeSpan? at = null) =>
        _follow ??= this.RegisterGrainTimer(_ => S.Current is null ? Task.CompletedTask : TickAsync(),
            new GrainTimerCreationOptions(at ?? timing.FollowPeriod, timing.FollowPeriod) { KeepAlive = true });

    private void StopFollowing()
    {
        _follow?.Dispose();
        _follow = null;
    }
}

/// <summary>The schedule ids of a cluster (key 0), persisted.</summary>
[GrainType("scheduledirectory")]
public sealed class ScheduleDirectoryGrain([PersistentState("schedules", "runs")] IPersistentState<ScheduleDirectoryState> state) : Grain, IScheduleDirectoryGrain
{
    public async Task Put(string id)
    {
        if (state.State.Ids.Contains(id)) return;
        state.State.Ids.Add(id);
        await state.WriteStateAsync();
    }

    public async Task Drop(string id)
    {
        if (state.State.Ids.Remove(id)) await state.WriteStateAsync();
    }

    public Task<string[]> List() => Task.FromResult(state.State.Ids.ToArray());
}

public sealed class ScheduleDirectoryState
{
    public List<string> Ids { get; set; } = new();
}
