using BatchCohort.Contracts;
using BatchCohort.Runtime.Distribution;
using BatchCohort.Runtime.Measurement;
using Microsoft.Extensions.Logging;
using Orleans.Placement;

namespace BatchCohort.Grains;

/// <summary>
/// One subject of one run, activated on the silo that leased it. <see cref="Start"/> returns at once: the work
/// (load by URI, measure inside the silo's core budget, write derivatives and the result record under the cache key)
/// runs off the grain's scheduler, and the outcome is reported to the coordinator only when it is durable — retried
/// while the coordinator is unreachable (its silo may be dying; it is reactivated elsewhere from its persisted state).
/// Once its report is delivered the activation goes (a 10,000-subject run would otherwise keep thousands of idle
/// activations, ≈ 10 kB each, in the coordinator's silo too): the result is durable under its cache key, so a
/// coordinator that lost the report with its silo polls no one, puts the subject back, and its next lease is a cache hit.
/// </summary>
[GrainType("subject"), PreferLocalPlacement]
public sealed class SubjectGrain(SiloWork work, ILogger<SubjectGrain> log) : Grain, ISubjectGrain
{
    private SubjectJob? _job;
    private SubjectReport? _outcome;
    private bool _working;

    public Task Start(SubjectJob job)
    {
        if (_working && _job!.RunId == job.RunId)
        {
            _job = _job with { Attempt = job.Attempt };   // already at it: the outcome answers the newer attempt
            return Task.CompletedTask;
        }
        _job = job;
        _outcome = null;
        _working = true;
        work.Enter();
        DelayDeactivation(TimeSpan.FromHours(2));
        _ = WorkAsync(job);
        return Task.CompletedTask;
    }

    public Task<SubjectPoll?> Poll(string runId) =>
        Task.FromResult(_job?.RunId == runId ? new SubjectPoll(_job.Attempt, _working, _outcome) : null);

    private async Task WorkAsync(SubjectJob job)
    {
        SubjectReport? report;
        try
        {
            var token = work.TokenFor(job.RunId);
            report = await Task.Run(() => work.Worker.RunAsync(job, token), CancellationToken.None);
        }
        catch (Exception e)
        {
            var (kind, reason) = SubjectWorker.Describe(e);
            report = new SubjectReport(job.RunId, job.SubjectId, job.Attempt, SubjectOutcome.Failed, work.Silo, 0, FailureKind: kind, Reason: reason);
        }
        finally
        {
            _working = false;
            work.Exit();
        }
        if (report is null) return;   // cancelled: nothing to report, the subject stays pending
        report = report with { Attempt = _job!.Attempt };
        _outcome = report;
        await ReportAsync(report);
    }

    private async Task ReportAsync(SubjectReport report)
    {
        var coordinator = GrainFactory.GetGrain<ICohortRunGrain>(report.RunId);
        var delay = TimeSpan.FromMilliseconds(250);
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try
            {
                await coordinator.Report(report);
                DeactivateOnIdle();
                return;
            }
            catch (Exception e) when (DateTime.UtcNow < until && !work.Stopping.IsCancellationRequested)
            {
                log.LogInformation("report of {Subject} not delivered yet ({Error}); retrying", report.SubjectId, e.GetType().Name);
                await Task.Delay(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
            catch (Exception e)
            {
                // the coordinator recovers it by polling this grain (or the subject is a cache hit when leased again)
                log.LogWarning("report of {Subject} dropped: {Error}", report.SubjectId, e.Message);
                return;
            }
        }
    }
}
