using System.Buffers.Binary;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Formats.Mgh;

/// <summary>
/// FreeSurfer's MGH header (the "MghFormat" page of FreeSurfer's documentation). Everything is big-endian:
/// <code>
///  0  int32   version        always 1
///  4  int32×4 width, height, depth, nframes
/// 20  int32   type           0 UCHAR, 1 INT (int32), 3 FLOAT (float32), 4 SHORT (int16)
/// 24  int32   dof            degrees of freedom (unused here)
/// 28  int16   goodRASFlag    when > 0 the next 60 bytes are valid
/// 30  float×3 xsize, ysize, zsize                 voxel sizes (mm)
/// 42  float×9 x_r x_a x_s  y_r y_a y_s  z_r z_a z_s  direction cosines of the column, row and slice axes (Mdc)
/// 78  float×3 c_r, c_a, c_s                       RAS of the volume centre (Pxyz_c)
/// 284 ...     voxels, x fastest, then y, z, frame
/// after them, optionally: float TR (ms), flip angle (rad), TE (ms), TI (ms), FoV; then tags (not read)
/// </code>
/// The voxel-to-world (vox2ras, RAS mm) matrix is M = Mdc · diag(xsize, ysize, zsize) with translation
/// P0 = c_ras − M · (width, height, depth)/2 (the centre voxel is at half the dims, not rounded). Without
/// goodRASFlag FreeSurfer assumes 1 mm coronal slices, LIA (x → left, y → inferior, z → anterior), centre at 0.
/// A .mgz file is the same bytes gzipped.
/// </summary>
public sealed class MghHeader
{
    public const int DataOffset = 284;
    public const int FixedHeaderBytes = 90;
    public const int FooterBytes = 20;

    public int Version { get; init; } = 1;
    public int[] Dims { get; init; } = { 1, 1, 1, 1 };
    public int TypeCode { get; init; }
    public int Dof { get; init; }
    public short GoodRasFlag { get; init; } = 1;
    public double[] Delta { get; init; } = { 1, 1, 1 };
    /// <summary>Column k = direction of voxel axis k (x, y, z) in RAS; stored on disk as x_r x_a x_s y_r …</summary>
    public double[,] Mdc { get; init; } = { { -1, 0, 0 }, { 0, 0, 1 }, { 0, -1, 0 } };
    public double[] CRas { get; init; } = { 0, 0, 0 };
    /// <summary>Repetition time (ms) from the optional footer; 0 when absent.</summary>
    public double Tr { get; init; }
    public double FlipAngle { get; init; }
    public double Te { get; init; }
    public double Ti { get; init; }

    /// <summary>The voxel type of an MGH type code (null for types this reader does not handle).</summary>
    public static VoxelType? VoxelTypeOf(int code) => code switch
    {
        0 => VoxelType.UInt8,
        1 => VoxelType.Int32,
        3 => VoxelType.Float32,
        4 => VoxelType.Int16,
        _ => null,
    };

    public static int CodeOf(VoxelType t) => t switch
    {
        VoxelType.UInt8 => 0,
        VoxelType.Int32 => 1,
        VoxelType.Float32 => 3,
        VoxelType.Int16 => 4,
        _ => throw new ArgumentException($"MGH stores uint8, int32, float32 or int16 voxels, not {t.Name()}", nameof(t)),
    };

    /// <summary>FreeSurfer's names for type codes, for messages.</summary>
    public static string TypeName(int code) => code switch
    {
        0 => "UCHAR", 1 => "INT", 2 => "LONG", 3 => "FLOAT", 4 => "SHORT", 5 => "BITMAP", 6 => "TENSOR",
        7 => "FLOAT_COMPLEX", 8 => "DOUBLE_COMPLEX", 9 => "RGB", 10 => "USHORT", _ => "unknown",
    };

    /// <summary>vox2ras (RAS mm).</summary>
    public Affine Vox2Ras()
    {
        var m = new double[3, 3];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                m[r, c] = Mdc[r, c] * Delta[c];
        var t = new double[3];
        for (int r = 0; r < 3; r++)
            t[r] = CRas[r] - (m[r, 0] * Dims[0] + m[r, 1] * Dims[1] + m[r, 2] * Dims[2]) / 2.0;
        return Affine.FromLinear(m, t[0], t[1], t[2]);
    }

    /// <summary>The header that stores <paramref name="affine"/> for an image of the given shape (the inverse of <see cref="Vox2Ras"/>).</summary>
    public static MghHeader FromAffine(Affine affine, int[] dims, int typeCode, double tr = 0)
    {
        var z = affine.Zooms;
        var delta = new[] { z.X, z.Y, z.Z };
        var mdc = new double[3, 3];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                mdc[r, c] = affine[r, c] / delta[c];
        var centre = affine.Apply(dims[0] / 2.0, dims[1] / 2.0, dims[2] / 2.0);
        return new MghHeader
        {
            Dims = dims, TypeCode = typeCode, GoodRasFlag = 1, Delta = delta, Mdc = mdc,
            CRas = new[] { centre.X, centre.Y, centre.Z }, Tr = tr,
        };
    }

    /// <summary>Parses the first 90 bytes; validates version, dims and type. Throws naming the file.</summary>
    public static MghHeader Parse(ReadOnlySpan<byte> span, string path)
    {
        if (span.Length < FixedHeaderBytes)
            throw new ImageFormatException(path, $"file is truncated: {span.Length} bytes, shorter than the {FixedHeaderBytes}-byte MGH header");
        var b = span[..FixedHeaderBytes].ToArray();
        int I(int o) => BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(o));
        double F(int o) => BinaryPrimitives.ReadSingleBigEndian(b.AsSpan(o));
        int version = I(0);
        if (version != 1)
            throw new ImageFormatException(path, $"not an MGH/MGZ file: the header's version is {version}, FreeSurfer's MGH format has version 1" +
                                                 (BinaryPrimitives.ReverseEndianness(version) == 1 ? " (this file is little-endian; MGH is big-endian)" : ""));
        var dims = new[] { I(4), I(8), I(12), I(16) };
        if (dims.Any(d => d < 1))
            throw new ImageFormatException(path, $"MGH dims ({string.Join(", ", dims)}) must all be at least 1 (width, height, depth, frames)");
        int type = I(20);
        if (VoxelTypeOf(type) is null)
            throw new ImageFormatException(path, $"MGH voxel type {type} ({TypeName(type)}) is not supported; this reader takes UCHAR (0), INT (1), FLOAT (3) and SHORT (4)");
        short good = BinaryPrimitives.ReadInt16BigEndian(b.AsSpan(28));
        if (good <= 0)
            return new MghHeader
            {
                Version = version, Dims = dims, TypeCode = type, Dof = I(24), GoodRasFlag = good,
                Delta = new double[] { 1, 1, 1 }, Mdc = new double[,] { { -1, 0, 0 }, { 0, 0, 1 }, { 0, -1, 0 } }, CRas = new double[] { 0, 0, 0 },
            };
        var delta = new[] { F(30), F(34), F(38) };
        var mdc = new double[3, 3];
        for (int axis = 0; axis < 3; axis++)
            for (int ras = 0; ras < 3; ras++)
                mdc[ras, axis] = F(42 + 12 * axis + 4 * ras);
        var c = new[] { F(78), F(82), F(86) };
        foreach (var v in delta.Concat(c).Concat(mdc.Cast<double>()))
            if (!double.IsFinite(v)) throw new ImageFormatException(path, "MGH header holds a non-finite voxel size, direction cosine or centre");
        if (delta.Any(d => d <= 0))
            throw new ImageFormatException(path, $"MGH voxel sizes ({string.Join(", ", delta)}) must be positive");
        return new MghHeader { Version = version, Dims = dims, TypeCode = type, Dof = I(24), GoodRasFlag = good, Delta = delta, Mdc = mdc, CRas = c };
    }

    /// <summary>The 284 bytes before the voxels.</summary>
    public byte[] ToBytes()
    {
        var b = new byte[DataOffset];
        var s = b.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(s, Version);
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteInt32BigEndian(s[(4 + 4 * i)..], Dims[i]);
        BinaryPrimitives.WriteInt32BigEndian(s[20..], TypeCode);
        BinaryPrimitives.WriteInt32BigEndian(s[24..], Dof);
        BinaryPrimitives.WriteInt16BigEndian(s[28..], GoodRasFlag);
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteSingleBigEndian(s[(30 + 4 * i)..], (float)Delta[i]);
        for (int axis = 0; axis < 3; axis++)
            for (int ras = 0; ras < 3; ras++)
                BinaryPrimitives.WriteSingleBigEndian(s[(42 + 12 * axis + 4 * ras)..], (float)Mdc[ras, axis]);
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteSingleBigEndian(s[(78 + 4 * i)..], (float)CRas[i]);
        return b;
    }

    /// <summary>The optional footer: TR, flip angle, TE, TI, FoV (all float32).</summary>
    public byte[] FooterBytesOf()
    {
        var b = new byte[FooterBytes];
        BinaryPrimitives.WriteSingleBigEndian(b, (float)Tr);
        BinaryPrimitives.WriteSingleBigEndian(b.AsSpan(4), (float)FlipAngle);
        BinaryPrimitives.WriteSingleBigEndian(b.AsSpan(8), (float)Te);
        BinaryPrimitives.WriteSingleBigEndian(b.AsSpan(12), (float)Ti);
        return b;
    }
}
