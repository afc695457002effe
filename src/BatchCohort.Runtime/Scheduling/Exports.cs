using System.Text.Json.Nodes;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Storage;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Scheduling;

/// <summary>What to publish: a completed run's group/ outputs, to a destination (a folder; a blob prefix later).</summary>
public sealed record ExportRequest(string OutputDirectory, string Destination, RunState Run);

/// <summary>
/// The seam to the export publisher (latest/ + a dated copy + exports.json). A nightly run calls it after the group
/// stage; an exception means "not published" (recorded, measurements kept, the next night retries).
/// </summary>
public interface IExportPublisher
{
    /// <summary>Publishes and returns where (a location a person can open).</summary>
    Task<string> PublishAsync(ExportRequest request, CancellationToken ct);
}

/// <summary>
/// Publishes to a local folder:
/// <code>
/// &lt;dest&gt;/&lt;run-id&gt;/…      the dated copy (run ids start with the UTC start time, 20261203T020000Z-…)
/// &lt;dest&gt;/latest/…        the newest run's files
/// &lt;dest&gt;/exports.json     index: latest run id, finish time, subject counts, pipeline version, SHA-256 of each file,
///                         and every dated copy (newest first); written last, so a poller never sees it point at
///                         files that are not all there
/// </code>
/// </summary>
public sealed class FolderExportPublisher : IExportPublisher
{
    public const string IndexName = "exports.json";

    public Task<string> PublishAsync(ExportRequest request, CancellationToken ct)
    {
        var dest = Path.GetFullPath(request.Destination);
        var run = request.Run;
        var files = run.Outputs.Where(o => o.StartsWith("group/", StringComparison.Ordinal))
            .Select(o => (Rel: o["group/".Length..], Full: Path.Combine(request.OutputDirectory, o)))
            .Where(f => File.Exists(f.Full)).ToList();
        if (files.Count == 0) throw new IOException($"run {run.RunId} has no group outputs to publish");
        try { Directory.CreateDirectory(dest); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"export destination {dest} is not reachable: {e.Message}", e);
        }

        var hashes = new JsonObject();
        var dated = Path.Combine(dest, run.RunId);
        foreach (var (rel, full) in files)
        {
            ct.ThrowIfCancellationRequested();
            AtomicFile.Copy(full, Path.Combine(dated, rel));
            hashes[rel] = ContentHash.OfFile(full, ct);
        }
        // latest/: fill a fresh folder, then swap it in (the index still names the previous run until the end).
        var staging = Path.Combine(dest, ".latest-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (var (rel, full) in files) AtomicFile.Copy(full, Path.Combine(staging, rel));
        var latest = Path.Combine(dest, "latest");
        var old = Path.Combine(dest, ".latest-old-" + Guid.NewGuid().ToString("N")[..8]);
        if (Directory.Exists(latest)) Directory.Move(latest, old);
        Directory.Move(staging, latest);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);

        var indexPath = Path.Combine(dest, IndexName);
        var runs = new JsonArray();
        runs.Add(new JsonObject { ["runId"] = run.RunId, ["finishedAt"] = run.FinishedAt?.ToString("O"), ["path"] = run.RunId + "/" });
        if (File.Exists(indexPath) && JsonNode.Parse(File.ReadAllText(indexPath))?["runs"] is JsonArray previous)
            foreach (var r in previous)
                if (r?["runId"]?.GetValue<string>() is { } id && id != run.RunId && Directory.Exists(Path.Combine(dest, id)))
                    runs.Add(r.DeepClone());
        var index = new JsonObject
        {
            ["latest"] = new JsonObject
            {
                ["runId"] = run.RunId,
                ["cohort"] = run.Cohort,
                ["finishedAt"] = run.FinishedAt?.ToString("O"),
                ["pipelineVersion"] = run.PipelineVersion,
                ["generator"] = run.Generator,
                ["subjects"] = new JsonObject
                {
                    ["total"] = run.Subjects.Count,
                    ["done"] = run.Subjects.Count(s => s.Status == SubjectStatus.Done),
                    ["failed"] = run.Subjects.Count(s => s.Status == SubjectStatus.Failed),
                },
                ["path"] = "latest/",
                ["dated"] = run.RunId + "/",
                ["files"] = hashes,
            },
            ["runs"] = runs,
        };
        AtomicFile.WriteAllText(indexPath, index.ToJsonString(Json.Options) + "\n");
        return Task.FromResult(dest);
    }
}
