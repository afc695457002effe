namespace BatchCohort.Runtime.Storage;

/// <summary>An object (a file or a blob) found under a location: its path relative to the location, size and ETag.</summary>
public sealed record StoredItem(string Path, long Size, string? ETag);

/// <summary>A small object read whole (a result record, run state, an index) with the ETag it had when read.</summary>
public sealed record StoredBytes(byte[] Content, string ETag);

/// <summary>
/// The storage seam: a folder on this machine (<see cref="LocalFolder"/>) or a prefix in an Azure Blob Storage
/// container (<see cref="BlobFolder"/>). Everything the runtime keeps — result records and derivatives, run state,
/// group outputs, exports — goes through these few operations, so a worker, the coordinator and the exporter do
/// not care where a cohort lives. Paths are relative, '/'-separated. Every failure is a <see cref="StorageException"/>
/// whose message is one line naming the location (never a key or a SAS signature) and the problem.
/// </summary>
public interface IStorageLocation
{
    /// <summary>How the location is shown to people: a folder path, or az://container/prefix. Never holds a secret.</summary>
    string Display { get; }

    /// <summary>The folder on this machine's disk, or null for a remote location.</summary>
    string? LocalPath { get; }

    /// <summary>The location of a sub-folder (a longer prefix).</summary>
    IStorageLocation Child(string relative);

    /// <summary>How the object at <paramref name="relative"/> is shown to people.</summary>
    string DisplayOf(string relative);

    /// <summary>Size and ETag of an object, or null when there is none.</summary>
    Task<StoredItem?> GetInfoAsync(string relative, CancellationToken ct = default);

    /// <summary>A small object whole, with its ETag; null when there is none; a <see cref="StorageException"/> when it is larger than <paramref name="maxBytes"/>.</summary>
    Task<StoredBytes?> ReadAsync(string relative, long maxBytes, CancellationToken ct = default);

    /// <summary>Streams an object into a local file (written whole or not at all). Refuses one larger than <paramref name="maxBytes"/> before reading it.</summary>
    Task DownloadAsync(string relative, string localFile, long maxBytes, CancellationToken ct = default);

    /// <summary>Creates the object only if there is none (If-None-Match: *). Returns its ETag, or null when one already existed (nothing written).</summary>
    Task<string?> CreateAsync(string relative, byte[] content, CancellationToken ct = default);

    /// <summary>Writes the object when its current ETag is <paramref name="ifMatch"/> (null: only if absent); a
    /// <see cref="StorageConflictException"/> when someone else changed it first. Returns the new ETag.</summary>
    Task<string> ReplaceAsync(string relative, byte[] content, string? ifMatch, CancellationToken ct = default);

    /// <summary>Uploads a local file, replacing any object there; readers see the old or the new object, never half of one.</summary>
    Task UploadFileAsync(string relative, string localFile, CancellationToken ct = default);

    /// <summary>Every object under <paramref name="prefix"/> (a sub-folder, "" for all), recursively, sorted by path.</summary>
    Task<IReadOnlyList<StoredItem>> ListAsync(string prefix = "", CancellationToken ct = default);

    /// <summary>Deletes an object if it is there.</summary>
    Task DeleteAsync(string relative, CancellationToken ct = default);
}

/// <summary>A storage operation failed. The message is one line naming the location and the problem, with no secret.</summary>
public class StorageException : IOException
{
    public StorageException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A conditional write lost: the object was created or changed by someone else (HTTP 409/412).</summary>
public sealed class StorageConflictException : StorageException
{
    public StorageConflictException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Opens locations from what a user writes: a path, or az://container/prefix, or an http(s) blob URL (with or without a SAS).</summary>
public static class StorageLocation
{
    /// <summary>True for az://, http:// and https:// locations (Azure Blob Storage).</summary>
    public static bool IsRemote(string? spec) =>
        spec is not null && (spec.StartsWith("az://", StringComparison.OrdinalIgnoreCase)
                             || spec.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                             || spec.StartsWith("http://", StringComparison.OrdinalIgnoreCase));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> SasByLocation = new(StringComparer.Ordinal);

    /// <summary>
    /// Keeps the SAS of a blob URL in this process only and returns the URL without it (what run state, jobs and
    /// records carry, so the SAS is never written to a file or shown). Later <see cref="Open"/>s of that location, or
    /// of any location under it, get the SAS back. A location without a SAS is returned as it is.
    /// </summary>
    public static string Remember(string spec)
    {
        if (!IsRemote(spec)) return spec;
        int q = spec.IndexOf('?');
        if (q < 0) return spec;
        var bare = spec[..q].TrimEnd('/');
        SasByLocation[bare] = spec[q..];
        return bare;
    }

    /// <summary>A blob location with the SAS remembered for it (or for a location above it) put back; others unchanged.</summary>
    private static string WithSas(string spec)
    {
        if (!IsRemote(spec) || spec.Contains('?')) return spec;
        string? best = null;
        foreach (var b in SasByLocation.Keys)
            if ((spec == b || spec.StartsWith(b + "/", StringComparison.Ordinal)) && (best is null || b.Length > best.Length)) best = b;
        return best is null ? spec : spec + SasByLocation[best];
    }

    /// <summary>A location from a path (relative ones against <paramref name="baseDirectory"/>) or a blob URI.</summary>
    public static IStorageLocation Open(string spec, string? baseDirectory = null)
    {
        if (IsRemote(spec)) return BlobFolder.Open(WithSas(spec));
        if (spec.StartsWith("file://", StringComparison.OrdinalIgnoreCase)) return new LocalFolder(new Uri(spec).LocalPath);
        return new LocalFolder(baseDirectory is null ? Path.GetFullPath(spec) : Path.GetFullPath(Path.Combine(baseDirectory, spec)));
    }

    /// <summary>A location shown to people with any SAS query removed.</summary>
    public static string Redact(string spec)
    {
        if (!IsRemote(spec)) return spec;
        int q = spec.IndexOf('?');
        return q < 0 ? spec : spec[..q];
    }

    /// <summary>The parent location and the object name of a URI or path naming one object.</summary>
    public static (IStorageLocation Folder, string Name) OpenObject(string spec)
    {
        if (IsRemote(spec)) return BlobFolder.OpenObject(WithSas(spec));
        var full = spec.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(spec).LocalPath : Path.GetFullPath(spec);
        return (new LocalFolder(Path.GetDirectoryName(full)!), Path.GetFileName(full));
    }

    internal static string Join(string a, string b)
    {
        a = a.Trim('/');
        b = b.Trim('/');
        return a.Length == 0 ? b : b.Length == 0 ? a : a + "/" + b;
    }
}
