using BatchCohort.Contracts;
using BatchCohort.Runtime.Coordination;

namespace BatchCohort.Grains;

public sealed class RunDirectoryState
{
    public List<RunListing> Runs { get; set; } = new();
}

/// <summary>The runs a cluster knows (key 0), persisted: silos lease from the active ones, <c>status</c> lists them all.</summary>
[GrainType("rundirectory")]
public sealed class RunDirectoryGrain([PersistentState("directory", "runs")] IPersistentState<RunDirectoryState> state) : Grain, IRunDirectoryGrain
{
    private const int Keep = 500;

    public async Task Put(RunListing run)
    {
        var runs = state.State.Runs;
        int i = runs.FindIndex(r => r.RunId == run.RunId);
        if (i >= 0 && runs[i] == run) return;
        if (i >= 0) runs[i] = run; else runs.Add(run);
        if (runs.Count > Keep) runs.RemoveAll(r => !IsActive(r) && runs.IndexOf(r) < runs.Count - Keep);
        await state.WriteStateAsync();
    }

    public Task<RunListing[]> List() => Task.FromResult(state.State.Runs.ToArray());

    public Task<string[]> Active() => Task.FromResult(state.State.Runs.Where(IsActive).Select(r => r.RunId).ToArray());

    private static bool IsActive(RunListing r) => r.Status is RunState.Measuring or RunState.Grouping;
}
