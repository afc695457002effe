using System.Text;
using System.Text.Json;

namespace BatchCohort.Runtime.Storage;

/// <summary>
/// Write-then-rename: the file at <c>path</c> is either the old complete content or the new complete content,
/// never a half-written one, even if the process is killed (kill -9) in the middle. The temporary file lives in
/// the same folder (rename is atomic only within a file system) and is flushed to disk before the rename.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, "." + Path.GetFileName(full) + ".tmp-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    public static void WriteJson<T>(string path, T value, JsonSerializerOptions? options = null) =>
        WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(value, options ?? Json.Options));

    /// <summary>Copies a file so that the destination appears complete or not at all.</summary>
    public static void Copy(string source, string destination) => Write(destination, s =>
    {
        using var src = File.OpenRead(source);
        src.CopyTo(s);
    });
}
