using BatchCohort.Contracts;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace BatchCohort.Grains;

/// <summary>A silo refused by the cluster (another pipeline version than the silos already running).</summary>
public sealed class SiloRefusedException(string reason) : Exception(reason);

/// <summary>
/// Each silo's pull loop: once the silo is active it asks to join (refused when its pipeline version differs from the
/// live silos'), then leases as many subjects from the active runs as it has free capacity, and hands each to its
/// subject grain (placed on this silo). Work therefore never exceeds a silo's capacity, and a silo that joins later
/// takes its share at once. When a run stops being active, this silo's work for it is cancelled.
/// </summary>
public sealed class SiloWorkLoop(IGrainFactory grains, SiloWork work, ILogger<SiloWorkLoop> log) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloWorkLoop), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private async Task StartAsync(CancellationToken ct)
    {
        var answer = await grains.GetGrain<IClusterGrain>(0).Join(work.Silo, work.PipelineVersion);
        if (!answer.Accepted) throw new SiloRefusedException(answer.Reason ?? "refused by the cluster");
        log.LogInformation("silo {Silo} working: {Capacity} subjects at once, pipeline {Version}", work.Silo, work.Capacity, work.PipelineVersion);
        _loop = Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
    }

    private async Task StopAsync(CancellationToken ct)
    {
        _stop.Cancel();
        work.StopAll();
        if (_loop is not null)
        {
            try { await _loop.WaitAsync(TimeSpan.FromSeconds(5), ct); }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException) { }
        }
        // in-flight subjects were cancelled: let them stop (or land a result they had finished) before the silo goes
        try
        {
            if (!await work.WaitIdleAsync(TimeSpan.FromSeconds(8), ct))
                log.LogWarning("silo {Silo} stopping with {Count} subjects still in flight", work.Silo, work.InFlight);
        }
        catch (OperationCanceledException) { }
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        var directory = grains.GetGrain<IRunDirectoryGrain>(0);
        string[] active = Array.Empty<string>();
        var lastActive = DateTime.MinValue;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (DateTime.UtcNow - lastActive > TimeSpan.FromMilliseconds(500))
                {
                    active = await directory.Active();
                    lastActive = DateTime.UtcNow;
                    work.KeepOnly(active);
                }
                bool leased = false;
                foreach (var run in active)
                {
                    int free = work.Free;
                    if (free <= 0) break;
                    work.Reserve(free);
                    try
                    {
                        var jobs = await grains.GetGrain<ICohortRunGrain>(run).Lease(work.Silo, work.PipelineVersion, free);
                        foreach (var job in jobs)
                            await grains.GetGrain<ISubjectGrain>(SubjectKey(job.RunId, job.SubjectId, job.Attempt)).Start(job);
                        leased |= jobs.Length > 0;
                    }
                    finally { work.Unreserve(free); }
                }
                if (!leased || work.Free <= 0)
                    await work.WaitForChangeAsync(TimeSpan.FromMilliseconds(leased ? 1000 : 250), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                log.LogWarning("silo work loop: {Error}", e.Message);
                try { await Task.Delay(500, ct); } catch (OperationCanceledException) { break; }
            }
        }
    }

    /// <summary>One grain per attempt: a retry is a new activation, placed on the silo that leased it (an activation of
    /// an earlier attempt would otherwise take the call on its own silo, and a retry could never move).</summary>
    public static string SubjectKey(string runId, string subjectId, int attempt) => $"{runId}/{subjectId}/{attempt}";
}
