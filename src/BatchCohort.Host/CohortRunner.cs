using BatchCohort.Contracts;
using BatchCohort.Grains;
using BatchCohort.Runtime;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Measurement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BatchCohort.Host;

public sealed record CohortRunOptions
{
    /// <summary>Subjects measured at once; default: the cores, fewer when memory is short.</summary>
    public int? Jobs { get; init; }

    /// <summary>Start a new run even when the last one was interrupted (results already written are still reused).</summary>
    public bool NewRun { get; init; }

    /// <summary>Where the outputs go instead of the manifest's "output": a folder, az://container/prefix or a blob URL.</summary>
    public string? Output { get; init; }

    /// <summary>Where completed runs publish their group outputs instead of the manifest's "exports" (default &lt;output&gt;/exports).</summary>
    public string? Export { get; init; }

    internal RunLocations Locations => new(Output, Export);
}

public sealed record CohortRunOutcome(
    CohortManifest Manifest,
    RunState State,
    bool Interrupted,
    bool Resumed,
    /// <summary>The group stage's full summary (embedded runs; a cluster client has <see cref="RunState.GroupText"/>).</summary>
    GroupSummary? Group,
    /// <summary>The client left a cluster run that goes on.</summary>
    bool Detached = false)
{
    public IReadOnlyList<SubjectState> Failed => State.Subjects.Where(s => s.Status == SubjectStatus.Failed).ToList();
    public string OutputDirectory => Manifest.OutputDirectory;
    /// <summary>The output as a person names it: a folder, or a blob location without any SAS.</summary>
    public string OutputDisplay => BatchCohort.Runtime.Storage.StorageLocation.Redact(Manifest.OutputLocation);
    public string RunRecordPath => RunState.RecordPath(Manifest.OutputDirectory, State.RunId);
}

/// <summary>
/// <c>batchcohort run COHORT</c>, the embedded default: one Orleans silo in this process (localhost clustering, run
/// state in files beside the outputs) runs the same grains as a cluster — the cohort grain opens or resumes the run,
/// the cohort-run grain coordinates, subject grains measure up to <c>jobs</c> at a time — and this client submits the
/// run and follows it. Interrupted (Ctrl-C, kill -9) and run again, it resumes the same run and redoes only unfinished
/// subjects; run again after it completed, it starts a new run in which unchanged subjects are cache hits.
/// </summary>
public sealed class CohortRunner(ISubjectMeasurer measurer, IRunObserver? observer = null)
{
    private readonly IRunObserver _obs = observer ?? NullRunObserver.Instance;

    public async Task<CohortRunOutcome> RunAsync(string cohort, CohortRunOptions? options = null, CancellationToken ct = default)
    {
        options ??= new CohortRunOptions();
        int jobs = options.Jobs ?? RunPlanner.DefaultJobs();
        // blob demographics and atlas are fetched into scratch here and kept until the run ends (the subjects read the atlas copy)
        await using var plan = await RunPlanner.PlanAsync(cohort, measurer.PipelineVersion, options.NewRun, jobs, _obs, ct, measurer, options.Locations);
        var runs = Path.Combine(plan.Manifest.OutputDirectory, "runs");
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "batchcohort" });
        builder.UseOrleans(silo => silo.UseEmbedded(runs).AddBatchCohort(measurer, jobs));
        using var host = builder.Build();
        await host.StartAsync(CancellationToken.None);
        try
        {
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            return await RunFollower.SubmitAndFollowAsync(grains, plan, _obs, interruptOnCancel: true,
                host.Services.GetRequiredService<LocalRunResults>(), ct);
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await host.StopAsync(stop.Token); } catch (OperationCanceledException) { }
        }
    }
}

/// <summary>Submits a run to the engine (embedded or a cluster) and follows it to its end with the observer.</summary>
public static class RunFollower
{
    /// <summary>The cohort grain's key: the output itself — a blob output's location (its SAS already removed), not the
    /// submitting machine's staging folder, so that clients on different machines submitting the same output reach
    /// one coordinator; a local output's folder.</summary>
    public static string CohortKey(RunRequest request) =>
        request.OutputLocation is { Length: > 0 } remote ? remote.TrimEnd('/') : request.OutputDirectory;

    public static async Task<CohortRunOutcome> SubmitAndFollowAsync(IGrainFactory grains, RunPlan plan, IRunObserver obs, bool interruptOnCancel,
        LocalRunResults? local, CancellationToken ct, bool detach = false)
    {
        RunTicket ticket;
        for (int attempt = 1; ; attempt++)
        {
            // idempotent: a submission that timed out and is sent again returns the same run
            try { ticket = await grains.GetGrain<ICohortGrain>(CohortKey(plan.Request)).Submit(plan.Request); break; }
            catch (TimeoutException) when (attempt < 4 && !ct.IsCancellationRequested) { }
        }
        if (ticket.Note is not null) obs.Note(ticket.Note);
        if (detach)
        {
            var v = await grains.GetGrain<ICohortRunGrain>(ticket.RunId).GetView();
            return new CohortRunOutcome(plan.Manifest, RunPlanner.FromView(v!), false, ticket.Resumed, null, Detached: true);
        }
        return await FollowAsync(grains, ticket.RunId, plan.Manifest, ticket.Resumed, obs, interruptOnCancel, local, ct);
    }

    public static async Task<CohortRunOutcome> FollowAsync(IGrainFactory grains, string runId, CohortManifest manifest, bool resumed, IRunObserver obs,
        bool interruptOnCancel, LocalRunResults? local, CancellationToken ct)
    {
        var run = grains.GetGrain<ICohortRunGrain>(runId);
        var p0 = await run.GetProgress(0) ?? throw new InvalidOperationException($"run {runId} is not known to the engine");
        RunProgressFeed? feed = null;
        bool measuring = p0.Status is RunState.Measuring or RunState.Grouping;
        if (measuring && p0.Pending + p0.Running > 0)
        {
            obs.Phase(resumed ? $"resuming run {runId}" : $"run {runId}");
            feed = new RunProgressFeed(runId, RunProgressFeed.ToProgress(p0));
            obs.Measuring(feed, resumed);
        }
        else if (measuring) obs.Phase($"run {runId}: every subject already measured");
        int seen = 0;
        bool grouping = false, interrupted = false, detached = false;
        var status = p0.Status;
        while (status is RunState.Measuring or RunState.Grouping)
        {
            try { await Task.Delay(200, ct); }
            catch (OperationCanceledException) { interrupted = true; break; }
            RunProgress? p;
            try { p = await run.GetProgress(seen); }
            catch (Exception e) when (e is TimeoutException or OrleansException) { continue; }   // the coordinator is moving to another silo
            if (p is null) continue;
            seen = p.FailuresSeen;
            feed?.Update(p);
            status = p.Status;
            if (!grouping && status is RunState.Grouping or RunState.Completed) { grouping = true; obs.Phase("group statistics"); }
        }
        RunView? view;
        if (interrupted)
        {
            if (interruptOnCancel) view = await run.Interrupt();
            else { detached = true; view = await run.GetView(); }
        }
        else view = await run.GetView();
        var state = RunPlanner.FromView(view ?? throw new InvalidOperationException($"run {runId} has no state"));
        GroupSummary? group = null;
        if (local is not null)
        {
            var (summary, error) = local.Get(runId);
            if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
            group = summary;
        }
        return new CohortRunOutcome(manifest, state, state.Status == RunState.Interrupted || detached, resumed, group, detached);
    }
}
