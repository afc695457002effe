using System.Text.Json;
using BatchCohort.Contracts;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Scheduling;
using BatchCohort.Runtime.Storage;
using PageRunView = BatchCohort.Runtime.Scheduling.RunView;

namespace BatchCohort.Host;

/// <summary>A cluster's schedules through their grains (for <c>schedule … --cluster</c> and the silo's status page).</summary>
public static class ClusterSchedules
{
    public static async Task<ScheduleInfo?> GetAsync(IGrainFactory grains, string id)
    {
        var json = await grains.GetGrain<IScheduleGrain>(id).Describe();
        return json is null ? null : JsonSerializer.Deserialize<ScheduleInfo>(json, Json.Options);
    }

    /// <summary>Every schedule, oldest first.</summary>
    public static async Task<IReadOnlyList<ScheduleInfo>> ListAsync(IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IScheduleDirectoryGrain>(0).List();
        var infos = await Task.WhenAll(ids.Select(id => GetAsync(grains, id)));
        return infos.OfType<ScheduleInfo>().OrderBy(i => i.Spec.CreatedAt).ThenBy(i => i.Spec.Id, StringComparer.Ordinal).ToList();
    }

    public static async Task<ScheduleInfo> AddAsync(IGrainFactory grains, ScheduleSpec spec)
    {
        var json = await grains.GetGrain<IScheduleGrain>(spec.Id).Add(JsonSerializer.Serialize(spec, Json.Options));
        return JsonSerializer.Deserialize<ScheduleInfo>(json, Json.Options)!;
    }
}

/// <summary>
/// The status site's data from a cluster: schedules from their grains (last/next run, notes, history), runs from the
/// run directory and each run's coordinator (live per-subject state). Reports and QC pictures are served from the
/// cohort's output folder, which every silo shares.
/// </summary>
public sealed class ClusterStatusSource(IGrainFactory grains, string display, int maxRuns = 20) : IStatusSource
{
    public async Task<StatusSnapshot> ReadAsync(CancellationToken ct)
    {
        var infos = await ClusterSchedules.ListAsync(grains);
        var schedules = infos.Select(i => new ScheduleView(i.Spec.Id, i.Spec.CohortName, i.Spec.Cohort, i.Spec.At, i.Spec.TimeZone, "cluster",
            i.NextRun, i.State.LastNight, i.State.LastRunId, i.State.LastOutcome, i.State.LastSummary,
            i.Spec.Webhook is null ? null : Webhook.Redact(i.Spec.Webhook), i.State.Notes.TakeLast(5).ToList(), i.Problem)).ToList();
        var listings = (await grains.GetGrain<IRunDirectoryGrain>(0).List()).OrderByDescending(r => r.StartedAt).Take(maxRuns).ToList();
        var views = await Task.WhenAll(listings.Select(l => grains.GetGrain<ICohortRunGrain>(l.RunId).GetView()));
        var byOutput = OutputsOf(infos);
        var latestCompleted = views.OfType<Contracts.RunView>().Where(v => v.Status == RunState.Completed)
            .GroupBy(v => v.OutputDirectory).ToDictionary(g => g.Key, g => g.MaxBy(v => v.StartedAt)!.RunId, StringComparer.Ordinal);
        var runs = views.OfType<Contracts.RunView>()
            .Select(v => Page(v, byOutput.GetValueOrDefault(v.OutputDirectory), latestCompleted.GetValueOrDefault(v.OutputDirectory) == v.RunId))
            .OrderByDescending(r => r.Status == "running").ThenByDescending(r => r.StartedAt).ToList();
        return new StatusSnapshot(DateTimeOffset.UtcNow, "cluster " + display, schedules, runs);
    }

    public async Task<PageRunView?> RunAsync(string scheduleId, string runId, CancellationToken ct)
    {
        var view = await grains.GetGrain<ICohortRunGrain>(runId).GetView();
        if (view is null) return null;
        var infos = await ClusterSchedules.ListAsync(grains);
        return Page(view, OutputsOf(infos).GetValueOrDefault(view.OutputDirectory), latestCompleted: false);
    }

    public async Task<string?> OutputDirectoryAsync(string scheduleId, CancellationToken ct)
    {
        var info = await ClusterSchedules.GetAsync(grains, scheduleId);
        return info is null ? null : OutputOf(info);
    }

    public async Task<bool> HasScheduleAsync(string scheduleId, CancellationToken ct) => await ClusterSchedules.GetAsync(grains, scheduleId) is not null;

    private static string? OutputOf(ScheduleInfo i)
    {
        try { return CohortManifest.Load(i.Spec.Cohort).OutputDirectory; }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return i.History.Select(h => h.OutputDirectory).FirstOrDefault(o => o is not null);
        }
    }

    private static Dictionary<string, ScheduleInfo> OutputsOf(IEnumerable<ScheduleInfo> infos)
    {
        var map = new Dictionary<string, ScheduleInfo>(StringComparer.Ordinal);
        foreach (var i in infos) if (OutputOf(i) is { } o) map.TryAdd(o, i);
        return map;
    }

    private static PageRunView Page(Contracts.RunView v, ScheduleInfo? schedule, bool latestCompleted)
    {
        var state = RunPlanner.FromView(v);
        var h = schedule?.History.FirstOrDefault(x => x.RunId == v.RunId);
        return StatusReader.View(schedule?.Spec.Id ?? "-", schedule?.Spec.CohortName ?? v.Cohort, v.OutputDirectory, state, h, latestCompleted);
    }
}
