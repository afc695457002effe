using BatchCohort.Contracts;
using BatchCohort.Runtime.Coordination;

namespace BatchCohort.Grains;

/// <summary>The persisted pointer of one output location: its current run and the runs before it.</summary>
public sealed class CohortPointer
{
    public string? CurrentRun { get; set; }
    public List<string> Runs { get; set; } = new();
}

/// <summary>
/// One output location (key: the output folder, or a blob output's location; <c>RunFollower.CohortKey</c>). A submission while the current run is open and does the same work
/// returns that run (a run submitted twice is one run); after an interruption it resumes it (unless a new run is
/// asked for); otherwise a new run starts (its unchanged subjects are cache hits).
/// </summary>
[GrainType("cohort")]
public sealed class CohortGrain([PersistentState("cohort", "runs")] IPersistentState<CohortPointer> pointer) : Grain, ICohortGrain
{
    public async Task<RunTicket> Submit(RunRequest request)
    {
        string? note = null;
        if (pointer.State.CurrentRun is { } current)
        {
            var run = GrainFactory.GetGrain<ICohortRunGrain>(current);
            var view = await run.GetView();
            if (view is not null)
            {
                bool same = view.PipelineVersion == request.PipelineVersion && view.SettingsHash == request.SettingsHash;
                if (view.Status is RunState.Measuring or RunState.Grouping)
                {
                    if (same) return await run.Open(request, resume: false);
                    throw new ArgumentException($"run {current} is still running in {request.OutputLocation ?? request.OutputDirectory} with other settings or another pipeline version; cancel it first (batchcohort cancel {current})");
                }
                if (view.Status is RunState.Interrupted or RunState.Cancelled)
                {
                    if (same && !request.NewRun) return await run.Open(request, resume: true);
                    if (!same) note = $"the interrupted run {current} used other settings or another pipeline version: starting a new run";
                }
            }
        }
        var id = RunState.NewRunId(DateTimeOffset.UtcNow);
        var ticket = await GrainFactory.GetGrain<ICohortRunGrain>(id).Open(request, resume: false);
        pointer.State.CurrentRun = id;
        pointer.State.Runs.Add(id);
        await pointer.WriteStateAsync();
        return ticket with { Note = note };
    }
}
