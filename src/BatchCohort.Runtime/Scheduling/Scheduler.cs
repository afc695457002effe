using System.Collections.Concurrent;

namespace BatchCohort.Runtime.Scheduling;

/// <summary>
/// Embedded mode's scheduler (<c>batchcohort serve</c>): every tick it reads the schedules from the
/// <see cref="ScheduleStore"/> (so <c>schedule add/remove</c> from another process take effect at the next tick),
/// applies <see cref="ScheduleRules"/> with the injected clock, and starts due runs in the background. The night is
/// marked handled (persisted) before its run starts, so a restart never runs a night twice; a run cut short by the
/// process dying (marked "running" but no run going) is resumed once at the next start — the engine's resume
/// redoes only unfinished subjects.
/// </summary>
public sealed class Scheduler(ScheduleStore store, IRunLauncher launcher, NightlyJob job, TimeProvider? time = null, Action<string>? log = null)
{
    public const string Running = "running";
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, Task<NightRecord?>> _active = new(StringComparer.Ordinal);

    /// <summary>Runs started by this scheduler and not finished yet, by schedule id.</summary>
    public IReadOnlyDictionary<string, Task<NightRecord?>> Active => _active;

    /// <summary>Evaluates every embedded-mode schedule once; returns the runs it started.</summary>
    public IReadOnlyList<Task<NightRecord?>> Tick(CancellationToken ct = default)
    {
        var now = _time.GetUtcNow();
        var started = new List<Task<NightRecord?>>();
        foreach (var spec in store.List())
        {
            if (spec.Cluster is not null) continue;   // cluster schedules live on the silos
            if (_active.ContainsKey(spec.Id)) continue;
            ScheduleState state = store.LoadState(spec.Id);
            ScheduleDecision decision;
            bool going;
            try
            {
                going = launcher.IsRunning(spec.Cohort);
                if (state.LastOutcome == Running && !going && state.LastNight is { } unfinished)
                {
                    Log($"{spec.Id}: the run for {unfinished:yyyy-MM-dd} did not finish (the process stopped); resuming it");
                    store.SaveState(spec.Id, state.WithNote($"{unfinished:yyyy-MM-dd}: resumed after a restart"));
                    started.Add(Start(spec, unfinished, NightlyJob.Scheduled, ct));
                    continue;
                }
                decision = ScheduleRules.Evaluate(spec, state, now, going);
            }
            catch (ArgumentException e)
            {
                Log($"{spec.Id}: {e.Message}");
                continue;
            }
            switch (decision.Action)
            {
                case ScheduleAction.Skip:
                    Log($"{spec.Id}: {decision.Night:yyyy-MM-dd} skipped: {decision.Reason}");
                    store.SaveState(spec.Id, state.WithNote($"{decision.Night:yyyy-MM-dd}: skipped: {decision.Reason}") with { LastNight = decision.Night });
                    break;
                case ScheduleAction.Fire:
                    Log($"{spec.Id}: starting the run for {decision.Night:yyyy-MM-dd} ({spec.CohortName})");
                    store.SaveState(spec.Id, state with { LastNight = decision.Night, LastTriggeredAt = now, LastOutcome = Running, LastSummary = null });
                    started.Add(Start(spec, decision.Night, NightlyJob.Scheduled, ct));
                    break;
            }
        }
        return started;
    }

    /// <summary>Starts a run of a schedule now (not counted as its night). Null when a run of that cohort is going.</summary>
    public Task<NightRecord?>? RunNow(string id, CancellationToken ct = default)
    {
        var spec = store.Get(id) ?? throw new ArgumentException($"no schedule {id} (see `batchcohort schedule list`)");
        if (_active.ContainsKey(spec.Id) || launcher.IsRunning(spec.Cohort)) return null;
        return Start(spec, null, NightlyJob.RunNow, ct);
    }

    private Task<NightRecord?> Start(ScheduleSpec spec, DateOnly? night, string trigger, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource<NightRecord?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_active.TryAdd(spec.Id, tcs.Task)) return _active[spec.Id];
        _ = Task.Run(async () =>
        {
            NightRecord? rec = null;
            try
            {
                rec = await job.RunAsync(spec, night, trigger, ct);
                Log($"{spec.Id}: run {rec.RunId} {rec.Outcome}: {rec.Summary}");
                var st = store.LoadState(spec.Id);
                store.SaveState(spec.Id, st with { LastRunId = rec.RunId, LastOutcome = rec.Outcome, LastSummary = rec.Summary });
            }
            catch (RunAlreadyGoingException)
            {
                Log($"{spec.Id}: skipped: a run of this cohort is still going");
                var st = store.LoadState(spec.Id);
                var note = $"{night?.ToString("yyyy-MM-dd") ?? "run-now"}: skipped: the previous run of this cohort was still going";
                store.SaveState(spec.Id, (st.LastOutcome == Running && trigger == NightlyJob.Scheduled ? st with { LastOutcome = null } : st).WithNote(note));
            }
            catch (OperationCanceledException)
            {
                Log($"{spec.Id}: stopped; the run resumes at the next start");
            }
            catch (Exception e)
            {
                Log($"{spec.Id}: internal error: {e.Message}");
                var st = store.LoadState(spec.Id);
                store.SaveState(spec.Id, st with { LastOutcome = NightOutcome.Failed, LastSummary = "internal error: " + e.Message });
            }
            finally
            {
                _active.TryRemove(spec.Id, out _);
                tcs.TrySetResult(rec);
            }
        }, CancellationToken.None);
        return tcs.Task;
    }

    /// <summary>Ticks every <paramref name="period"/> until cancelled, then waits for the runs it started to stop.</summary>
    public async Task RunAsync(TimeSpan period, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                Tick(ct);
                await Task.Delay(period, _time, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        await Task.WhenAll(_active.Values);
    }

    private void Log(string text) => log?.Invoke(text);
}
