using BatchCohort.Imaging.Processing;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Formats.Common;

/// <summary>
/// Bulk conversions between raw voxel bytes (machine byte order, x fastest) and float/double values, with the
/// NIfTI scaling <c>value = raw · slope + inter</c>. Scaled values are computed in double and rounded once, which is
/// what nibabel's <c>get_fdata()</c> (float64) gives after a cast to float32.
/// </summary>
public static class VoxelCodec
{
    private const int ParallelChunk = 1 << 20;

    /// <summary>Reverses the byte order of every voxel in place (no-op for 1-byte types).</summary>
    public static void SwapInPlace(Span<byte> data, int itemSize)
    {
        switch (itemSize)
        {
            case 1: return;
            case 2: { var s = MemoryMarshal.Cast<byte, ushort>(data); BinaryPrimitives.ReverseEndianness(s, s); return; }
            case 4: { var s = MemoryMarshal.Cast<byte, uint>(data); BinaryPrimitives.ReverseEndianness(s, s); return; }
            case 8: { var s = MemoryMarshal.Cast<byte, ulong>(data); BinaryPrimitives.ReverseEndianness(s, s); return; }
            default: throw new ArgumentOutOfRangeException(nameof(itemSize), itemSize, "item size must be 1, 2, 4 or 8");
        }
    }

    /// <summary>Converts <paramref name="raw"/> (machine order) to float, applying slope/intercept when <paramref name="scaled"/>.</summary>
    public static void ToSingle(ReadOnlySpan<byte> raw, VoxelType type, double slope, double inter, Span<float> dst)
    {
        int n = dst.Length;
        if ((long)raw.Length != (long)n * type.Size())
            throw new ArgumentException($"{raw.Length} bytes of {type.Name()} do not make {n} voxels", nameof(raw));
        bool unscaled = slope == 1 && inter == 0;
        switch (type)
        {
            case VoxelType.UInt8: Conv<byte>(raw, dst, slope, inter, unscaled); break;
            case VoxelType.Int8: Conv<sbyte>(raw, dst, slope, inter, unscaled); break;
            case VoxelType.Int16: Conv<short>(raw, dst, slope, inter, unscaled); break;
            case VoxelType.UInt16: Conv<ushort>(raw, dst, slope, inter, unscaled); break;
            case VoxelType.Int32: Conv<int>(raw, dst, slope, inter, unscaled); break;
            case VoxelType.UInt32: Conv<uint>(raw, dst, slope, inter, unscaled); break;
            case VoxelType.Int64: Conv<long>(raw, dst, slope, inter, unscaled); break;
            case VoxelType.UInt64: Conv<ulong>(raw, dst, slope, inter, unscaled); break;
            case VoxelType.Float32: Conv<float>(raw, dst, slope, inter, unscaled); break;
            case VoxelType.Float64: Conv<double>(raw, dst, slope, inter, unscaled); break;
            default: throw new NotSupportedException($"voxel type {type} is not supported");
        }
    }

    /// <summary>Converts <paramref name="raw"/> (machine order) to double with slope/intercept.</summary>
    public static void ToDouble(ReadOnlySpan<byte> raw, VoxelType type, double slope, double inter, Span<double> dst)
    {
        switch (type)
        {
            case VoxelType.UInt8: ConvD<byte>(raw, dst, slope, inter); break;
            case VoxelType.Int8: ConvD<sbyte>(raw, dst, slope, inter); break;
            case VoxelType.Int16: ConvD<short>(raw, dst, slope, inter); break;
            case VoxelType.UInt16: ConvD<ushort>(raw, dst, slope, inter); break;
            case VoxelType.Int32: ConvD<int>(raw, dst, slope, inter); break;
            case VoxelType.UInt32: ConvD<uint>(raw, dst, slope, inter); break;
            case VoxelType.Int64: ConvD<long>(raw, dst, slope, inter); break;
            case VoxelType.UInt64: ConvD<ulong>(raw, dst, slope, inter); break;
            case VoxelType.Float32: ConvD<float>(raw, dst, slope, inter); break;
            case VoxelType.Float64: ConvD<double>(raw, dst, slope, inter); break;
            default: throw new NotSupportedException($"voxel type {type} is not supported");
        }
    }

    /// <summary>Minimum and maximum raw values (as double; NaNs in float data are skipped). (NaN, NaN) when all are NaN.</summary>
    public static (double Min, double Max) RawRange(ReadOnlySpan<byte> raw, VoxelType type) => type switch
    {
        VoxelType.UInt8 => Range<byte>(raw),
        VoxelType.Int8 => Range<sbyte>(raw),
        VoxelType.Int16 => Range<short>(raw),
        VoxelType.UInt16 => Range<ushort>(raw),
        VoxelType.Int32 => Range<int>(raw),
        VoxelType.UInt32 => Range<uint>(raw),
        VoxelType.Int64 => Range<long>(raw),
        VoxelType.UInt64 => Range<ulong>(raw),
        VoxelType.Float32 => Range<float>(raw),
        VoxelType.Float64 => Range<double>(raw),
        _ => throw new NotSupportedException($"voxel type {type} is not supported"),
    };

    /// <summary>
    /// Encodes float values as <paramref name="type"/>: raw = round((v − inter) / slope), saturating at the type's range
    /// (NaN → 0 for integer types). For float types with slope 1 and inter 0 this is a plain cast.
    /// </summary>
    public static void FromSingle(ReadOnlySpan<float> src, VoxelType type, double slope, double inter, Span<byte> dst)
    {
        if ((long)dst.Length != (long)src.Length * type.Size())
            throw new ArgumentException($"{dst.Length} bytes cannot hold {src.Length} voxels of {type.Name()}", nameof(dst));
        switch (type)
        {
            case VoxelType.UInt8: Enc<byte>(src, dst, slope, inter); break;
            case VoxelType.Int8: Enc<sbyte>(src, dst, slope, inter); break;
            case VoxelType.Int16: Enc<short>(src, dst, slope, inter); break;
            case VoxelType.UInt16: Enc<ushort>(src, dst, slope, inter); break;
            case VoxelType.Int32: Enc<int>(src, dst, slope, inter); break;
            case VoxelType.UInt32: Enc<uint>(src, dst, slope, inter); break;
            case VoxelType.Int64: Enc<long>(src, dst, slope, inter); break;
            case VoxelType.UInt64: Enc<ulong>(src, dst, slope, inter); break;
            case VoxelType.Float32: EncFloat<float>(src, dst, slope, inter); break;
            case VoxelType.Float64: EncFloat<double>(src, dst, slope, inter); break;
            default: throw new NotSupportedException($"voxel type {type} is not supported");
        }
    }

    /// <summary>The representable range of an integer voxel type (as double).</summary>
    public static (double Min, double Max) TypeRange(VoxelType type) => type switch
    {
        VoxelType.UInt8 => (byte.MinValue, byte.MaxValue),
        VoxelType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        VoxelType.Int16 => (short.MinValue, short.MaxValue),
        VoxelType.UInt16 => (ushort.MinValue, ushort.MaxValue),
        VoxelType.Int32 => (int.MinValue, int.MaxValue),
        VoxelType.UInt32 => (uint.MinValue, uint.MaxValue),
        VoxelType.Int64 => (long.MinValue, long.MaxValue),
        VoxelType.UInt64 => (ulong.MinValue, ulong.MaxValue),
        VoxelType.Float32 => (float.MinValue, float.MaxValue),
        VoxelType.Float64 => (double.MinValue, double.MaxValue),
        _ => throw new NotSupportedException($"voxel type {type} is not supported"),
    };

    // ---- implementation -------------------------------------------------------------------------------------

    private static unsafe void Conv<T>(ReadOnlySpan<byte> raw, Span<float> dst, double slope, double inter, bool unscaled)
        where T : unmanaged, INumberBase<T>
    {
        var src = MemoryMarshal.Cast<byte, T>(raw);
        int n = dst.Length;
        if (n < 2 * ParallelChunk)
        {
            ConvRange(src, dst, slope, inter, unscaled);
            return;
        }
        fixed (byte* ps = raw)
        fixed (float* pd = dst)
        {
            var sp = (IntPtr)ps; var dp = (IntPtr)pd;
            int chunks = (n + ParallelChunk - 1) / ParallelChunk;
            Parallelism.For(0, chunks, c =>
            {
                int start = c * ParallelChunk, len = Math.Min(ParallelChunk, n - start);
                var s = new ReadOnlySpan<T>((T*)sp + start, len);
                var d = new Span<float>((float*)dp + start, len);
                ConvRange(s, d, slope, inter, unscaled);
            });
        }
    }

    private static void ConvRange<T>(ReadOnlySpan<T> src, Span<float> dst, double slope, double inter, bool unscaled)
        where T : unmanaged, INumberBase<T>
    {
        if (unscaled)
        {
            if (typeof(T) == typeof(byte)) { WidenBytes(MemoryMarshal.Cast<T, byte>(src), dst); return; }
            if (typeof(T) == typeof(short)) { WidenShorts(MemoryMarshal.Cast<T, short>(src), dst); return; }
            if (typeof(T) == typeof(float)) { MemoryMarshal.Cast<T, float>(src).CopyTo(dst); return; }
            for (int i = 0; i < src.Length; i++) dst[i] = (float)double.CreateTruncating(src[i]);
            return;
        }
        for (int i = 0; i < src.Length; i++) dst[i] = (float)(double.CreateTruncating(src[i]) * slope + inter);
    }

    private static void WidenBytes(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && src.Length >= Vector<byte>.Count)
        {
            int w = Vector<byte>.Count, q = Vector<float>.Count;
            for (; i <= src.Length - w; i += w)
            {
                var v = new Vector<byte>(src[i..]);
                Vector.Widen(v, out Vector<ushort> lo, out Vector<ushort> hi);
                Vector.Widen(lo, out Vector<uint> a, out Vector<uint> b);
                Vector.Widen(hi, out Vector<uint> c, out Vector<uint> d);
                Vector.ConvertToSingle(Vector.AsVectorInt32(a)).CopyTo(dst[i..]);
                Vector.ConvertToSingle(Vector.AsVectorInt32(b)).CopyTo(dst[(i + q)..]);
                Vector.ConvertToSingle(Vector.AsVectorInt32(c)).CopyTo(dst[(i + 2 * q)..]);
                Vector.ConvertToSingle(Vector.AsVectorInt32(d)).CopyTo(dst[(i + 3 * q)..]);
            }
        }
        for (; i < src.Length; i++) dst[i] = src[i];
    }

    private static void WidenShorts(ReadOnlySpan<short> src, Span<float> dst)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && src.Length >= Vector<short>.Count)
        {
            int w = Vector<short>.Count, q = Vector<float>.Count;
            for (; i <= src.Length - w; i += w)
            {
                var v = new Vector<short>(src[i..]);
                Vector.Widen(v, out Vector<int> a, out Vector<int> b);
                Vector.ConvertToSingle(a).CopyTo(dst[i..]);
                Vector.ConvertToSingle(b).CopyTo(dst[(i + q)..]);
            }
        }
        for (; i < src.Length; i++) dst[i] = src[i];
    }

    private static void ConvD<T>(ReadOnlySpan<byte> raw, Span<double> dst, double slope, double inter)
        where T : unmanaged, INumberBase<T>
    {
        var src = MemoryMarshal.Cast<byte, T>(raw);
        if (src.Length != dst.Length) throw new ArgumentException("raw and destination lengths differ", nameof(dst));
        if (slope == 1 && inter == 0)
            for (int i = 0; i < src.Length; i++) dst[i] = double.CreateTruncating(src[i]);
        else
            for (int i = 0; i < src.Length; i++) dst[i] = double.CreateTruncating(src[i]) * slope + inter;
    }

    private static (double, double) Range<T>(ReadOnlySpan<byte> raw) where T : unmanaged, INumberBase<T>, IComparisonOperators<T, T, bool>
    {
        var s = MemoryMarshal.Cast<byte, T>(raw);
        bool any = false;
        T min = default, max = default;
        foreach (var v in s)
        {
            if (T.IsNaN(v)) continue;
            if (!any) { min = max = v; any = true; continue; }
            if (v < min) min = v;
            else if (v > max) max = v;
        }
        return any ? (double.CreateTruncating(min), double.CreateTruncating(max)) : (double.NaN, double.NaN);
    }

    private static void Enc<T>(ReadOnlySpan<float> src, Span<byte> dstBytes, double slope, double inter)
        where T : unmanaged, INumberBase<T>, IMinMaxValue<T>
    {
        var dst = MemoryMarshal.Cast<byte, T>(dstBytes);
        double lo = double.CreateTruncating(T.MinValue), hi = double.CreateTruncating(T.MaxValue);
        bool unscaled = slope == 1 && inter == 0;
        for (int i = 0; i < src.Length; i++)
        {
            double v = unscaled ? src[i] : (src[i] - inter) / slope;
            if (double.IsNaN(v)) { dst[i] = T.Zero; continue; }
            v = Math.Round(v, MidpointRounding.ToEven);
            dst[i] = v <= lo ? T.MinValue : v >= hi ? T.MaxValue : T.CreateTruncating(v);
        }
    }

    private static void EncFloat<T>(ReadOnlySpan<float> src, Span<byte> dstBytes, double slope, double inter)
        where T : unmanaged, INumberBase<T>
    {
        var dst = MemoryMarshal.Cast<byte, T>(dstBytes);
        if (slope == 1 && inter == 0)
        {
            if (typeof(T) == typeof(float)) { src.CopyTo(MemoryMarshal.Cast<T, float>(dst)); return; }
            for (int i = 0; i < src.Length; i++) dst[i] = T.CreateTruncating((double)src[i]);
            return;
        }
        for (int i = 0; i < src.Length; i++) dst[i] = T.CreateTruncating((src[i] - inter) / slope);
    }
}
