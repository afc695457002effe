using Orleans.Concurrency;

namespace BatchCohort.Contracts;

/// <summary>
/// One output location (key: the output folder, or a blob output's location without its SAS): which run is current there. A submission of the same work while
/// its run is open returns that run (a run submitted twice is one run); after an interruption it resumes it.
/// </summary>
public interface ICohortGrain : IGrainWithStringKey
{
    Task<RunTicket> Submit(RunRequest request);
}

/// <summary>
/// The coordinator of one run (key: the run id), with persisted state: every subject's status, attempts, silo and
/// timings. Silos lease work from it (bounded by their own capacity), subject grains report back to it; it retries
/// subjects whose silo died, then runs the group stage and marks the run complete.
/// </summary>
public interface ICohortRunGrain : IGrainWithStringKey
{
    /// <summary>Creates the run, or resumes it (<paramref name="resume"/>) after an interruption. Idempotent.</summary>
    Task<RunTicket> Open(RunRequest request, bool resume);

    /// <summary>Up to <paramref name="count"/> pending subjects for <paramref name="silo"/>; none when its pipeline version differs.</summary>
    Task<SubjectJob[]> Lease(string silo, string pipelineVersion, int count);

    /// <summary>A subject's outcome (idempotent: duplicates and stale attempts are ignored).</summary>
    Task Report(SubjectReport report);

    [AlwaysInterleave]
    Task<RunProgress?> GetProgress(int failuresSeen);

    [AlwaysInterleave]
    Task<RunView?> GetView();

    /// <summary>Diagnostics: the memory of the silo process hosting this coordinator (a full garbage collection first).</summary>
    [AlwaysInterleave]
    Task<HostMemory> GetHostMemory();

    /// <summary>Stops dispatching; running subjects go back to pending (the run can be resumed).</summary>
    Task<RunView?> Interrupt();

    /// <summary>Cancels the run: nothing more is dispatched, work in flight is stopped.</summary>
    Task<RunView?> Cancel();
}

/// <summary>The runs a cluster knows (key 0): silos lease from the active ones; <c>batchcohort status</c> lists them.</summary>
public interface IRunDirectoryGrain : IGrainWithIntegerKey
{
    Task Put(RunListing run);

    [AlwaysInterleave]
    Task<RunListing[]> List();

    [AlwaysInterleave]
    Task<string[]> Active();
}

/// <summary>
/// One attempt at one subject of one run (key: "&lt;run-id&gt;/&lt;subject-id&gt;/&lt;attempt&gt;"), placed on the silo that leased it. <see cref="Start"/>
/// returns at once; the grain loads the input by URI, measures, writes derivatives and the result record under the cache
/// key, and only then reports to the coordinator.
/// </summary>
public interface ISubjectGrain : IGrainWithStringKey
{
    Task Start(SubjectJob job);

    /// <summary>The attempt in progress (outcome null) or the last outcome; null when this activation never worked on the run.</summary>
    [AlwaysInterleave]
    Task<SubjectPoll?> Poll(string runId);
}

[GenerateSerializer, Immutable]
public sealed record SubjectPoll(int Attempt, bool Working, SubjectReport? Outcome);

/// <summary>Admission of silos (key 0): every live silo runs the same pipeline version.</summary>
public interface IClusterGrain : IGrainWithIntegerKey
{
    Task<JoinAnswer> Join(string silo, string pipelineVersion);

    /// <summary>The pipeline version the live silos run; null when no silo has joined.</summary>
    Task<string?> PipelineVersion();
}
