using System.IO.Compression;

namespace BatchCohort.Imaging.Formats.Common;

/// <summary>Writes header + voxel bytes to a file (gzip when asked), atomically: a temporary file beside the target is renamed over it.</summary>
internal static class ImageFileWriter
{
    private const int Chunk = 1 << 20;

    public static void Write(string path, bool gzip, ReadOnlySpan<byte> prefix, byte[]? data, int itemSize, bool bigEndian, ReadOnlySpan<byte> suffix = default)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) throw new ImageFormatException(path, "the output folder does not exist");
        string tmp = Path.Combine(dir, "." + Path.GetFileName(path) + ".tmp-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Stream s = gzip ? new GZipStream(fs, CompressionLevel.Fastest, leaveOpen: true) : fs;
                try
                {
                    s.Write(prefix);
                    if (data is not null) WriteData(s, data, itemSize, bigEndian);
                    if (!suffix.IsEmpty) s.Write(suffix);
                }
                finally
                {
                    if (gzip) s.Dispose();
                }
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (UnauthorizedAccessException ex)
        {
            TryDelete(tmp);
            throw new ImageFormatException(path, "permission denied", ex);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    private static void WriteData(Stream s, byte[] data, int itemSize, bool bigEndian)
    {
        bool swap = bigEndian == BitConverter.IsLittleEndian && itemSize > 1;
        if (!swap) { s.Write(data); return; }
        var buf = new byte[Math.Min(Chunk, data.Length)];
        for (int off = 0; off < data.Length; off += buf.Length)
        {
            int n = Math.Min(buf.Length, data.Length - off);
            data.AsSpan(off, n).CopyTo(buf);
            VoxelCodec.SwapInPlace(buf.AsSpan(0, n), itemSize);
            s.Write(buf, 0, n);
        }
    }

    private static void TryDelete(string p)
    {
        try { if (File.Exists(p)) File.Delete(p); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
