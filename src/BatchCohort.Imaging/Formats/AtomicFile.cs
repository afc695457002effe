using System.Text;

namespace BatchCohort.Imaging.Formats;

/// <summary>
/// Write-then-rename, the one way BatchCohort writes a file that someone may read while it is written or after a
/// kill -9: the file at <c>path</c> is either the old complete content or the new complete content, never a half
/// one. The temporary file lives in the same folder (rename is atomic only within a file system), starts with a dot
/// (listings and globs skip it), keeps the destination's extension (writers that choose the format by extension,
/// e.g. <c>.nii.gz</c> or <c>.parquet</c>, still do), is flushed to disk before the rename and removed on failure.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes through a stream.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteVia(path, tmp =>
        {
            using var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            write(fs);
            fs.Flush(flushToDisk: true);
        });
    }

    /// <summary>Lets <paramref name="write"/> create the file at a temporary path (same folder, same extension),
    /// then renames it over <paramref name="path"/>.</summary>
    public static void WriteVia(string path, Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var (full, tmp) = Prepare(path);
        try
        {
            write(tmp);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            TryDelete(tmp);
        }
    }

    /// <summary>The asynchronous form of <see cref="WriteVia"/> (downloads, async writers).</summary>
    public static async Task WriteViaAsync(string path, Func<string, Task> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var (full, tmp) = Prepare(path);
        try
        {
            await write(tmp).ConfigureAwait(false);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            TryDelete(tmp);
        }
    }

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    /// <summary>Copies a file so that the destination appears complete or not at all.</summary>
    public static void Copy(string source, string destination) => Write(destination, s =>
    {
        using var src = File.OpenRead(source);
        src.CopyTo(s);
    });

    /// <summary>The extension a writer sees, double ones included (<c>.nii.gz</c>, <c>.hdr.gz</c>).</summary>
    private static string Extension(string path)
    {
        var name = Path.GetFileName(path);
        var ext = Path.GetExtension(name);
        if (ext.Equals(".gz", StringComparison.OrdinalIgnoreCase)) ext = Path.GetExtension(name[..^3]) + ext;
        return ext;
    }

    private static (string Full, string Tmp) Prepare(string path)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var ext = Extension(full);
        var stem = Path.GetFileName(full)[..^ext.Length];
        return (full, Path.Combine(dir, "." + stem + ".tmp-" + Guid.NewGuid().ToString("N")[..12] + ext));
    }

    private static void TryDelete(string tmp)
    {
        try { if (File.Exists(tmp)) File.Delete(tmp); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
