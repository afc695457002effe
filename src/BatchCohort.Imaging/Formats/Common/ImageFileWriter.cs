using System.IO.Compression;

namespace BatchCohort.Imaging.Formats.Common;

/// <summary>Writes header + voxel bytes to a file (gzip when asked), atomically (<see cref="AtomicFile"/>).</summary>
internal static class ImageFileWriter
{
    private const int Chunk = 1 << 20;

    public static void Write(string path, bool gzip, ReadOnlySpan<byte> prefix, byte[]? data, int itemSize, bool bigEndian, ReadOnlySpan<byte> suffix = default)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) throw new ImageFormatException(path, "the output folder does not exist");
        byte[] head = prefix.ToArray(), tail = suffix.ToArray();
        try
        {
            AtomicFile.Write(path, fs =>
            {
                Stream s = gzip ? new GZipStream(fs, CompressionLevel.Fastest, leaveOpen: true) : fs;
                try
                {
                    s.Write(head);
                    if (data is not null) WriteData(s, data, itemSize, bigEndian);
                    if (tail.Length > 0) s.Write(tail);
                }
                finally
                {
                    if (gzip) s.Dispose();
                }
            });
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ImageFormatException(path, "permission denied", ex);
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
}
