using System.Security.Cryptography;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Storage;

/// <summary>
/// A folder on this machine as a storage location. Writes are atomic (write a hidden temporary file in the same
/// folder, flush, rename); "create if absent" is a hard link of the temporary file, which the file system refuses
/// atomically when the name exists (what .NET's <c>File.Move(…, overwrite: false)</c> does on Linux). The ETag of a
/// file is the SHA-256 of its content; an ETag'd replace compares it just before the rename (on one machine the
/// window between the two is microseconds; shared locations that need a true compare-and-swap are blob prefixes).
/// Hidden files (names starting with ".") are temporary and never listed.
/// </summary>
public sealed class LocalFolder : IStorageLocation
{
    public LocalFolder(string root) => Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));

    public string Root { get; }
    public string Display => Root;
    public string? LocalPath => Root;

    public IStorageLocation Child(string relative) => new LocalFolder(Full(relative));

    public string DisplayOf(string relative) => Full(relative);

    public string Full(string relative) =>
        relative.Length == 0 ? Root : Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar).TrimStart(Path.DirectorySeparatorChar));

    public Task<StoredItem?> GetInfoAsync(string relative, CancellationToken ct = default)
    {
        var f = new FileInfo(Full(relative));
        return Task.FromResult(f.Exists ? new StoredItem(relative, f.Length, null) : null);
    }

    public async Task<StoredBytes?> ReadAsync(string relative, long maxBytes, CancellationToken ct = default)
    {
        var p = Full(relative);
        try
        {
            var f = new FileInfo(p);
            if (!f.Exists) return null;
            if (f.Length > maxBytes) throw TooLarge(p, f.Length, maxBytes);
            var bytes = await File.ReadAllBytesAsync(p, ct);
            return new StoredBytes(bytes, ETagOf(bytes));
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        catch (UnauthorizedAccessException e) { throw new StorageException($"{p}: not readable ({e.Message})", e); }
    }

    public async Task DownloadAsync(string relative, string localFile, long maxBytes, CancellationToken ct = default)
    {
        var p = Full(relative);
        var f = new FileInfo(p);
        if (!f.Exists) throw new StorageException($"{p}: not found");
        if (f.Length > maxBytes) throw TooLarge(p, f.Length, maxBytes);
        await Task.Run(() => AtomicFile.Copy(p, localFile), ct);
    }

    public Task<string?> CreateAsync(string relative, byte[] content, CancellationToken ct = default)
    {
        var p = Full(relative);
        var tmp = WriteTemp(p, content);
        try
        {
            File.Move(tmp, p, overwrite: false);
            return Task.FromResult<string?>(ETagOf(content));
        }
        catch (IOException) when (File.Exists(p))
        {
            return Task.FromResult<string?>(null);
        }
        finally
        {
            TryDelete(tmp);
        }
    }

    public async Task<string> ReplaceAsync(string relative, byte[] content, string? ifMatch, CancellationToken ct = default)
    {
        var p = Full(relative);
        if (ifMatch is null)
            return await CreateAsync(relative, content, ct) ?? throw new StorageConflictException($"{p}: already exists (written by someone else)");
        var tmp = WriteTemp(p, content);
        try
        {
            var current = File.Exists(p) ? ETagOf(await File.ReadAllBytesAsync(p, ct)) : null;
            if (current != ifMatch) throw new StorageConflictException($"{p}: changed by someone else since it was read");
            File.Move(tmp, p, overwrite: true);
            return ETagOf(content);
        }
        finally
        {
            TryDelete(tmp);
        }
    }

    public async Task UploadFileAsync(string relative, string localFile, CancellationToken ct = default)
    {
        var p = Full(relative);
        if (string.Equals(Path.GetFullPath(localFile), p, StringComparison.Ordinal)) return; // already in place
        await Task.Run(() => AtomicFile.Copy(localFile, p), ct);
    }

    public Task<IReadOnlyList<StoredItem>> ListAsync(string prefix = "", CancellationToken ct = default)
    {
        var dir = Full(prefix);
        if (!Directory.Exists(dir)) return Task.FromResult<IReadOnlyList<StoredItem>>(Array.Empty<StoredItem>());
        var items = Directory.EnumerateFiles(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
            .Select(f => (Rel: Path.GetRelativePath(Root, f).Replace(Path.DirectorySeparatorChar, '/'), File: f))
            .Where(x => !x.Rel.Split('/').Any(s => s.StartsWith('.')))
            .Select(x => new StoredItem(x.Rel, new FileInfo(x.File).Length, null))
            .OrderBy(x => x.Path, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult<IReadOnlyList<StoredItem>>(items);
    }

    public Task DeleteAsync(string relative, CancellationToken ct = default)
    {
        File.Delete(Full(relative));
        return Task.CompletedTask;
    }

    public override string ToString() => Display;

    internal static string ETagOf(byte[] content) => "\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..32] + "\"";

    private static string WriteTemp(string path, byte[] content)
    {
        var dir = Path.GetDirectoryName(path)!;
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new StorageException($"{dir}: cannot create the folder ({e.Message})", e); }
        var tmp = Path.Combine(dir, "." + Path.GetFileName(path) + ".tmp-" + Guid.NewGuid().ToString("N")[..12]);
        using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            fs.Write(content);
            fs.Flush(flushToDisk: true);
        }
        return tmp;
    }

    private static void TryDelete(string p)
    {
        try { if (File.Exists(p)) File.Delete(p); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    internal static StorageException TooLarge(string display, long size, long max) =>
        new($"{display}: {Mb(size)} is larger than the limit of {Mb(max)} (BATCHCOHORT_SCRATCH_MAX_MB)");

    internal static string Mb(long bytes) => bytes < 1048576
        ? bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) + " bytes"
        : (bytes / 1048576.0).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " MB";
}
