using System.Text.Json;
using BatchCohort.Runtime.Storage;

namespace BatchCohort.Runtime.Caching;

/// <summary>Where a subject's outputs live and how its result record is written and found.</summary>
public static class ResultStore
{
    public static string SubjectDirectory(string outputRoot, string label) => Path.Combine(outputRoot, "sub-" + label, "anat");

    public static string ResultPath(string outputRoot, string label) => Path.Combine(SubjectDirectory(outputRoot, label), $"sub-{label}_measures.json");

    public static void Write(string path, ResultRecord result) => Json.WriteFile(path, result);

    /// <summary>The result at <paramref name="path"/> if it exists, is readable, has the expected cache key (when given)
    /// and every derivative file it lists is still there; otherwise null (the subject is measured again).</summary>
    public static ResultRecord? TryLoadValid(string path, string? expectedKey)
    {
        if (!File.Exists(path)) return null;
        ResultRecord? r;
        try { r = JsonSerializer.Deserialize<ResultRecord>(File.ReadAllBytes(path), Json.Options); }
        catch (JsonException) { return null; }
        catch (IOException) { return null; }
        if (r is null || r.Measures is null) return null;
        if (expectedKey is not null && r.CacheKey != expectedKey) return null;
        var dir = Path.GetDirectoryName(path)!;
        foreach (var f in r.Files.Values)
            if (!File.Exists(Path.Combine(dir, f))) return null;
        return r;
    }

    /// <summary>The file name of a subject's result record inside its folder.</summary>
    public static string RecordName(string label) => $"sub-{label}_measures.json";

    /// <summary>The largest result record read (a record is a few kB; anything this large is not one).</summary>
    public const long MaxRecordBytes = 16 << 20;

    /// <summary>As <see cref="TryLoadValid"/>, through the storage seam: <paramref name="subjectFolder"/> is the
    /// subject's folder (sub-&lt;label&gt;/anat) on disk or in a blob container.</summary>
    public static async Task<ResultRecord?> TryLoadValidAsync(IStorageLocation subjectFolder, string label, string? expectedKey, CancellationToken ct = default)
        => (await TryLoadAsync(subjectFolder, label, expectedKey, ct)).Result;

    private static async Task<(ResultRecord? Result, StoredBytes? Raw)> TryLoadAsync(IStorageLocation folder, string label, string? expectedKey, CancellationToken ct)
    {
        var raw = await folder.ReadAsync(RecordName(label), MaxRecordBytes, ct);
        if (raw is null) return (null, null);
        ResultRecord? r;
        try { r = JsonSerializer.Deserialize<ResultRecord>(raw.Content, Json.Options); }
        catch (JsonException) { return (null, raw); }
        if (r is null || r.Measures is null) return (null, raw);
        if (expectedKey is not null && r.CacheKey != expectedKey) return (null, raw);
        foreach (var f in r.Files.Values)
            if (await folder.GetInfoAsync(f, ct) is null) return (null, raw);
        return (r, raw);
    }

    /// <summary>What a commit did: <see cref="Won"/> when this writer's record is the one stored; otherwise
    /// <see cref="Result"/> is the record another writer committed first (valid, same cache key), to be used as is.</summary>
    public sealed record CommitOutcome(bool Won, ResultRecord Result);

    /// <summary>
    /// Commits a measured subject: first its derivative files (from <paramref name="localFolder"/>, where the measurer
    /// wrote them; nothing to copy when that is the subject's folder itself), then the record, created only if there
    /// is none (If-None-Match). When two workers race on one subject exactly one record is created; the other finds
    /// it and uses it. A record left by older work (another cache key, unreadable, or a file gone) is replaced with
    /// an If-Match on the ETag it was read with, so a concurrent replacer cannot be overwritten either. Derivatives
    /// before the record means a reader that finds the record finds its files; a kill at any point leaves either no
    /// record (the subject is measured again) or a complete one.
    /// </summary>
    public static async Task<CommitOutcome> CommitAsync(IStorageLocation subjectFolder, string localFolder, ResultRecord result, CancellationToken ct = default)
    {
        bool sameFolder = subjectFolder.LocalPath is { } lp && string.Equals(Path.GetFullPath(lp), Path.GetFullPath(localFolder), StringComparison.Ordinal);
        if (!sameFolder)
            foreach (var f in result.Files.Values.Distinct(StringComparer.Ordinal))
                await subjectFolder.UploadFileAsync(f, Path.Combine(localFolder, f), ct);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(result, Json.Options);
        var name = RecordName(result.SubjectLabel);
        for (int attempt = 0; ; attempt++)
        {
            if (await subjectFolder.CreateAsync(name, bytes, ct) is not null) return new CommitOutcome(true, result);
            var (existing, raw) = await TryLoadAsync(subjectFolder, result.SubjectLabel, result.CacheKey, ct);
            if (existing is not null) return new CommitOutcome(false, existing);
            if (raw is null && attempt < 8) continue; // deleted in between: create again
            if (raw is null) throw new StorageException($"{subjectFolder.DisplayOf(name)}: created and deleted by someone else, again and again");
            try
            {
                await subjectFolder.ReplaceAsync(name, bytes, raw.ETag, ct);
                return new CommitOutcome(true, result);
            }
            catch (StorageConflictException) when (attempt < 8)
            {
                // someone else replaced it first: look again
            }
        }
    }
}
