using Orleans.Concurrency;

namespace BatchCohort.Contracts;

/// <summary>
/// One nightly schedule of a cluster (key: the schedule id), with persisted state and an Orleans reminder that ticks
/// about every minute. At each tick it applies the same rules as embedded mode (the schedule's local time in its IANA
/// zone, DST-exact; once after downtime; skipped while a run of the cohort is going) to what it remembers, so a tick
/// that comes twice, late, or after every silo restarted starts a night at most once. Documents cross the wire as
/// JSON (a ScheduleSpec in, a ScheduleInfo out: the same documents as the embedded files).
/// </summary>
public interface IScheduleGrain : IGrainWithStringKey
{
    /// <summary>Stores the schedule (its creation time is the cluster's clock now) and registers the reminder. Returns the ScheduleInfo JSON.</summary>
    Task<string> Add(string specJson);

    /// <summary>Forgets the schedule (its history stays in the grain's state) and unregisters the reminder. False when there was none.</summary>
    Task<bool> Remove();

    /// <summary>The ScheduleInfo JSON, or null when there is no such schedule.</summary>
    [AlwaysInterleave]
    Task<string?> Describe();

    /// <summary>Starts a run now (not counted as a night; planned and submitted by the grain right after it answers).
    /// The answer starts with "started", or says why not (a run of this schedule or cohort is going).</summary>
    Task<string> RunNow();

    /// <summary>What a reminder tick does, on demand (idempotent).</summary>
    Task Tick();
}

/// <summary>The schedule ids of a cluster (key 0), persisted: <c>schedule list --cluster</c> and the status page read it.</summary>
public interface IScheduleDirectoryGrain : IGrainWithIntegerKey
{
    Task Put(string id);

    Task Drop(string id);

    [AlwaysInterleave]
    Task<string[]> List();
}
