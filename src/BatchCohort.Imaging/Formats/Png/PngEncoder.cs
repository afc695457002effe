using System.Buffers.Binary;
using System.IO.Compression;
using BatchCohort.Imaging.Processing.Filtering;

namespace BatchCohort.Imaging.Formats.Png;

/// <summary>PNG colour types this encoder writes (8 bits per sample).</summary>
public enum PngColorType : byte
{
    Grey = 0,
    Rgb = 2,
}

/// <summary>PNG row filters (PNG spec §9). <see cref="Adaptive"/> picks one per row by the minimum-sum-of-absolute-differences heuristic.</summary>
public enum PngFilter : sbyte
{
    Adaptive = -1,
    None = 0,
    Sub = 1,
    Up = 2,
    Average = 3,
    Paeth = 4,
}

/// <summary>
/// A PNG encoder (ISO/IEC 15948): 8-bit greyscale or RGB, non-interlaced, one IDAT of zlib data through
/// <see cref="ZLibStream"/>, chunk CRCs by <see cref="Crc32"/>. Enough for QC pictures; no palette, alpha or 16-bit.
/// </summary>
public static class PngEncoder
{
    private static readonly byte[] Signature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

    /// <summary>Largest width or height accepted (PNG allows 2³¹−1; a QC picture never needs more).</summary>
    public const int MaxDimension = 32768;

    /// <summary>Encodes pixels given row by row, top row first (grey: one byte per pixel; RGB: three, R G B).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, PngColorType colorType,
        PngFilter filter = PngFilter.Adaptive, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var ms = new MemoryStream();
        Write(ms, pixels, width, height, colorType, filter, level);
        return ms.ToArray();
    }

    /// <summary>Writes a PNG file.</summary>
    public static void WriteFile(string path, ReadOnlySpan<byte> pixels, int width, int height, PngColorType colorType,
        PngFilter filter = PngFilter.Adaptive)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = Encode(pixels, width, height, colorType, filter);
        File.WriteAllBytes(path, bytes);
    }

    public static void Write(Stream output, ReadOnlySpan<byte> pixels, int width, int height, PngColorType colorType,
        PngFilter filter = PngFilter.Adaptive, CompressionLevel level = CompressionLevel.Optimal)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (width <= 0 || height <= 0 || width > MaxDimension || height > MaxDimension)
            throw new ArgumentException($"PNG size {width}×{height} must be within 1–{MaxDimension} in each direction");
        if (colorType is not (PngColorType.Grey or PngColorType.Rgb))
            throw new ArgumentException($"unsupported PNG colour type {colorType}", nameof(colorType));
        if (filter is < PngFilter.Adaptive or > PngFilter.Paeth)
            throw new ArgumentException($"unknown PNG filter {filter}", nameof(filter));
        int bpp = colorType == PngColorType.Rgb ? 3 : 1;
        long rowBytes = (long)width * bpp;
        if (pixels.Length != rowBytes * height)
            throw new ArgumentException($"{pixels.Length} bytes given for a {width}×{height} {colorType} image that needs {rowBytes * height}", nameof(pixels));

        output.Write(Signature);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = 8;                 // bit depth
        ihdr[9] = (byte)colorType;
        ihdr[10] = 0;                // deflate
        ihdr[11] = 0;                // adaptive filtering with five basic types
        ihdr[12] = 0;                // no interlace
        WriteChunk(output, "IHDR"u8, ihdr);

        using (var idat = new MemoryStream())
        {
            using (var z = new ZLibStream(idat, level, leaveOpen: true))
            {
                int rb = (int)rowBytes;
                var prev = new byte[rb];
                var cur = new byte[rb];
                var candidate = new byte[rb + 1];
                var best = new byte[rb + 1];
                for (int y = 0; y < height; y++)
                {
                    pixels.Slice(y * rb, rb).CopyTo(cur);
                    if (filter == PngFilter.Adaptive)
                    {
                        long bestScore = long.MaxValue;
                        for (int f = 0; f <= 4; f++)
                        {
                            long score = FilterRow((PngFilter)f, cur, prev, bpp, candidate);
                            if (score < bestScore)
                            {
                                bestScore = score;
                                (best, candidate) = (candidate, best);
                            }
                        }
                        z.Write(best);
                    }
                    else
                    {
                        FilterRow(filter, cur, prev, bpp, best);
                        z.Write(best);
                    }
                    (prev, cur) = (cur, prev);
                }
            }
            WriteChunk(output, "IDAT"u8, idat.GetBuffer().AsSpan(0, (int)idat.Length));
        }
        WriteChunk(output, "IEND"u8, ReadOnlySpan<byte>.Empty);
    }

    /// <summary>Filters one row into <paramref name="dst"/> (filter byte first); returns the heuristic cost Σ|signed byte|.</summary>
    private static long FilterRow(PngFilter f, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> prev, int bpp, Span<byte> dst)
    {
        dst[0] = (byte)f;
        long score = 0;
        for (int i = 0; i < cur.Length; i++)
        {
            int a = i >= bpp ? cur[i - bpp] : 0;
            int b = prev[i];
            int c = i >= bpp ? prev[i - bpp] : 0;
            int pred = f switch
            {
                PngFilter.None => 0,
                PngFilter.Sub => a,
                PngFilter.Up => b,
                PngFilter.Average => (a + b) >> 1,
                _ => Paeth(a, b, c),
            };
            byte v = (byte)(cur[i] - pred);
            dst[i + 1] = v;
            score += Math.Abs((int)(sbyte)v);
        }
        return score;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        type.CopyTo(head[4..]);
        s.Write(head);
        s.Write(data);
        uint crc = Crc32.Update(0xFFFFFFFFu, type);
        crc = Crc32.Update(crc, data) ^ 0xFFFFFFFFu;
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc);
        s.Write(tail);
    }
}
