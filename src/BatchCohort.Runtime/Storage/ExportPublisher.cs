using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchCohort.Runtime.Caching;

namespace BatchCohort.Runtime.Storage;

/// <summary>What a completed run publishes: its group files and the facts a downstream tool needs to trust them.</summary>
public sealed record ExportRequest
{
    /// <summary>The local folder holding the files (the run's group/ folder).</summary>
    public required string SourceFolder { get; init; }
    /// <summary>The files to publish, relative to <see cref="SourceFolder"/> (e.g. measures.parquet, stats.csv, report.html).</summary>
    public required IReadOnlyList<string> Files { get; init; }
    public required string Cohort { get; init; }
    public required string RunId { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public required string PipelineVersion { get; init; }
    public string? PipelineHash { get; init; }
    public required int Subjects { get; init; }
    public required int Measured { get; init; }
    public int FromCache { get; init; }
    public required int Failed { get; init; }
}

/// <summary>One published file: its path inside the export, size and SHA-256 (what <c>sha256sum</c> prints).</summary>
public sealed record ExportedFile(string Path, long Bytes, string Sha256);

/// <summary>Where a publication went (no secret in these strings).</summary>
public sealed record ExportResult(string Destination, string Dated, string Latest, string Index, IReadOnlyList<ExportedFile> Files);

/// <summary>A publication failed (unreachable destination, access denied, a lost race on the index). The run's
/// measurements are not affected; the message is one line naming the destination and the problem.</summary>
public sealed class ExportFailedException(string message, Exception? inner = null) : StorageException(message, inner);

/// <summary>
/// Publishes a completed run's group outputs where downstream tools find them, in a folder or a blob prefix alike:
/// <code>
/// &lt;destination&gt;/runs/&lt;yyyy-MM-ddTHHmmssZ&gt;_&lt;run-id&gt;/…   the dated copy (never changed once written)
/// &lt;destination&gt;/latest/…                                the newest run's files
/// &lt;destination&gt;/exports.json                            the index a tool polls: latest and every run (run id, finish
///                                                      time, subject counts, pipeline version/hash, files with SHA-256)
/// </code>
/// Order: the dated copy, then latest/, then the index (replaced under an ETag condition, retried when another
/// publisher wrote it first). A tool that reads exports.json and then the dated folder it names therefore always
/// sees a complete, consistent set, and can check each file's hash. Publishing the same run again replaces its entry.
/// </summary>
public static class ExportPublisher
{
    public const string IndexName = "exports.json";
    public const string Schema = "batchcohort-exports-v1";
    /// <summary>Runs kept in the index (the dated folders themselves are never deleted).</summary>
    public const int MaxRunsInIndex = 200;

    /// <summary>Publishes to a location given as a path or a blob URI (az://…, https://…).</summary>
    public static Task<ExportResult> PublishAsync(ExportRequest request, string destination, CancellationToken ct = default)
    {
        IStorageLocation dest;
        try { dest = StorageLocation.Open(destination); }
        catch (StorageException e) { throw new ExportFailedException($"failed to publish to {StorageLocation.Redact(destination)}: {e.Message}", e); }
        return PublishAsync(request, dest, ct);
    }

    public static async Task<ExportResult> PublishAsync(ExportRequest request, IStorageLocation destination, CancellationToken ct = default)
    {
        try
        {
            var files = new List<ExportedFile>();
            foreach (var f in request.Files.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var local = Path.Combine(request.SourceFolder, f.Replace('/', Path.DirectorySeparatorChar));
                if (!File.Exists(local)) throw new ExportFailedException($"failed to publish to {destination.Display}: the file to publish is missing: {local}");
                files.Add(new ExportedFile(f.Replace('\\', '/'), new FileInfo(local).Length, ContentHash.OfFile(local, ct)));
            }
            var dated = "runs/" + request.FinishedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "_" + request.RunId;
            foreach (var f in files) await destination.UploadFileAsync(dated + "/" + f.Path, Path.Combine(request.SourceFolder, f.Path), ct);
            foreach (var f in files) await destination.UploadFileAsync("latest/" + f.Path, Path.Combine(request.SourceFolder, f.Path), ct);
            var entry = Entry(request, dated, files);
            for (int attempt = 0; ; attempt++)
            {
                var current = await destination.ReadAsync(IndexName, 64L << 20, ct);
                var index = Merge(current?.Content, request.Cohort, entry);
                try
                {
                    await destination.ReplaceAsync(IndexName, JsonSerializer.SerializeToUtf8Bytes(index, Json.Options), current?.ETag, ct);
                    break;
                }
                catch (StorageConflictException) when (attempt < 10)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50 * (attempt + 1)), ct);
                }
            }
            return new ExportResult(destination.Display, destination.DisplayOf(dated), destination.DisplayOf("latest"), destination.DisplayOf(IndexName), files);
        }
        catch (ExportFailedException) { throw; }
        catch (Exception e) when (e is StorageException or IOException or UnauthorizedAccessException)
        {
            throw new ExportFailedException($"failed to publish to {destination.Display}: {e.Message}", e);
        }
    }

    private static JsonObject Entry(ExportRequest r, string dated, IReadOnlyList<ExportedFile> files) => new()
    {
        ["runId"] = r.RunId,
        ["finishedAt"] = r.FinishedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
        ["publishedAt"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        ["path"] = dated + "/",
        ["subjects"] = new JsonObject
        {
            ["total"] = r.Subjects, ["measured"] = r.Measured, ["fromCache"] = r.FromCache, ["failed"] = r.Failed,
        },
        ["pipelineVersion"] = r.PipelineVersion,
        ["pipelineHash"] = r.PipelineHash,
        ["files"] = new JsonArray(files.Select(f => (JsonNode)new JsonObject { ["path"] = f.Path, ["bytes"] = f.Bytes, ["sha256"] = f.Sha256 }).ToArray()),
    };

    private static JsonObject Merge(byte[]? existing, string cohort, JsonObject entry)
    {
        var runs = new List<JsonObject>();
        if (existing is not null)
        {
            try
            {
                if (JsonNode.Parse(existing)?["runs"] is JsonArray a)
                    runs.AddRange(a.OfType<JsonObject>().Select(o => (JsonObject)o.DeepClone()));
            }
            catch (JsonException) { /* an unreadable index is rewritten from this run on */ }
        }
        var id = (string)entry["runId"]!;
        runs.RemoveAll(o => o["runId"]?.GetValue<string>() == id);
        runs.Add(entry);
        runs = runs.OrderByDescending(o => o["finishedAt"]?.GetValue<string>(), StringComparer.Ordinal).Take(MaxRunsInIndex).ToList();
        return new JsonObject
        {
            ["schema"] = Schema,
            ["cohort"] = cohort,
            ["updatedAt"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["latest"] = runs[0].DeepClone(),
            ["runs"] = new JsonArray(runs.Select(r => (JsonNode)r).ToArray()),
        };
    }
}
