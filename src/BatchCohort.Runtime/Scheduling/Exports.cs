using System.Text.Json.Nodes;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Storage;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Scheduling;

/// <summary>What to publish: a completed run's group/ outputs, to a destination (a folder, or a blob location az://…, https://…).</summary>
public sealed record PublishRequest(string OutputDirectory, string Destination, RunState Run);

/// <summary>
/// The seam to the export publisher (latest/ + a dated copy + exports.json). A nightly run calls it after the group
/// stage; an exception means "not published" (recorded, measurements kept, the next night retries).
/// </summary>
public interface IExportPublisher
{
    /// <summary>Publishes and returns where (a location a person can open; never a secret).</summary>
    Task<string> PublishAsync(PublishRequest request, CancellationToken ct);
}

/// <summary>
/// Publishes through the engine's <see cref="ExportPublisher"/> (a folder or a blob prefix alike: runs/&lt;time&gt;_&lt;run-id&gt;/,
/// latest/, exports.json with SHA-256 of each file). The engine's run already publishes to the cohort's export
/// location at the end of its group stage; when the destination's index already lists this run, nothing is copied
/// again (so a schedule neither duplicates a dated copy nor rewrites latest/). Otherwise — another destination
/// (<c>--export</c>), or the run's own publication failed — it publishes now.
/// </summary>
public sealed class StorageExportPublisher : IExportPublisher
{
    public async Task<string> PublishAsync(PublishRequest request, CancellationToken ct)
    {
        var run = request.Run;
        var files = run.Outputs.Where(o => o.StartsWith("group/", StringComparison.Ordinal)).Select(o => o["group/".Length..])
            .Where(f => File.Exists(Path.Combine(request.OutputDirectory, "group", f))).ToList();
        if (files.Count == 0) throw new ExportFailedException($"run {run.RunId} has no group outputs to publish");
        IStorageLocation dest;
        try { dest = StorageLocation.Open(request.Destination); }
        catch (StorageException e) { throw new ExportFailedException($"failed to publish to {StorageLocation.Redact(request.Destination)}: {e.Message}", e); }
        if (await ListsRunAsync(dest, run.RunId, ct)) return dest.Display;
        var result = await ExportPublisher.PublishAsync(new ExportRequest
        {
            SourceFolder = Path.Combine(request.OutputDirectory, "group"), Files = files, Cohort = run.Cohort, RunId = run.RunId,
            FinishedAt = run.FinishedAt ?? DateTimeOffset.UtcNow, PipelineVersion = run.PipelineVersion, PipelineHash = run.PipelineHash,
            Subjects = run.Subjects.Count,
            Measured = run.Subjects.Count(x => x.Status == SubjectStatus.Done),
            FromCache = run.Subjects.Count(x => x.Status == SubjectStatus.Done && x.FromCache),
            Failed = run.Subjects.Count(x => x.Status == SubjectStatus.Failed),
        }, dest, ct);
        return result.Destination;
    }

    /// <summary>True when the destination's exports.json lists the run (with every file); false when not, or unreadable.</summary>
    private static async Task<bool> ListsRunAsync(IStorageLocation dest, string runId, CancellationToken ct)
    {
        try
        {
            var index = await dest.ReadAsync(ExportPublisher.IndexName, 64L << 20, ct);
            if (index is null || JsonNode.Parse(index.Content)?["runs"] is not JsonArray runs) return false;
            foreach (var r in runs.OfType<JsonObject>())
            {
                if (r["runId"]?.GetValue<string>() != runId || r["path"]?.GetValue<string>() is not { } path) continue;
                foreach (var f in (r["files"] as JsonArray ?? new JsonArray()).OfType<JsonObject>())
                    if (f["path"]?.GetValue<string>() is not { } p || await dest.GetInfoAsync(path.TrimEnd('/') + "/" + p, ct) is null) return false;
                return true;
            }
            return false;
        }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException) { return false; }
    }
}
