using BatchCohort.Imaging.Formats.Common;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Formats.Mgh;

/// <summary>
/// FreeSurfer MGH (.mgh) and gzipped MGH (.mgz, .mgh.gz) images: reading (3-D and 4-D, the types UCHAR, INT, FLOAT,
/// SHORT) and writing (the same four types, goodRASFlag set, the optional footer with TR). The layout is in
/// <see cref="MghHeader"/>. Voxels are big-endian on disk and kept in machine order in the <see cref="SpatialImage"/>;
/// the affine is FreeSurfer's vox2ras, which is what nibabel's MGHImage.affine gives.
/// </summary>
public sealed class MghFileReader : IImageFileReader
{
    public string Name => "FreeSurfer MGH";

    /// <summary>Recognised by name: .mgh, .mgz, .mgh.gz (the format has no magic number).</summary>
    public bool CanRead(string path, ReadOnlySpan<byte> head) => MghFile.IsMghName(path) && !Directory.Exists(path);

    public SpatialImage Read(string path) => MghFile.Read(path);
}

public static class MghFile
{
    public static bool IsMghName(string path) =>
        path.EndsWith(".mgh", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".mgz", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".mgh.gz", StringComparison.OrdinalIgnoreCase);

    public static SpatialImage Read(string path)
    {
        using var s = ImageStreams.OpenRead(path, out bool gz, out long fileLength);
        var head = new byte[MghHeader.DataOffset];
        int got = ImageStreams.ReadAtMost(s, head, path);
        if (got < MghHeader.FixedHeaderBytes)
            throw new ImageFormatException(path, $"file is truncated: {got} bytes, shorter than the {MghHeader.FixedHeaderBytes}-byte MGH header");
        var h = MghHeader.Parse(head.AsSpan(0, got), path);
        if (got < MghHeader.DataOffset)
            throw new ImageFormatException(path, $"file is truncated: {got} bytes end before the voxel data, which starts at byte {MghHeader.DataOffset}");
        var type = MghHeader.VoxelTypeOf(h.TypeCode)!.Value;
        long voxels = (long)h.Dims[0] * h.Dims[1] * h.Dims[2] * h.Dims[3];
        long bytes = voxels * type.Size();
        string describe = $"{string.Join("×", h.Dims)} {type.Name()}";
        ImageStreams.CheckDataFits(path, MghHeader.DataOffset, bytes, fileLength, gz, describe);
        var data = GC.AllocateUninitializedArray<byte>(checked((int)bytes));
        int n = ImageStreams.ReadAtMost(s, data, path);
        if (n < data.Length)
            throw new ImageFormatException(path, $"file is truncated: the voxel data ({describe}) needs {bytes:N0} bytes but {(gz ? "the decompressed stream" : "the file")} ends after {n:N0}");
        if (BitConverter.IsLittleEndian) VoxelCodec.SwapInPlace(data, type.Size());
        var footer = new byte[MghHeader.FooterBytes];
        int fgot = ImageStreams.ReadAtMost(s, footer, path);
        double tr = fgot >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadSingleBigEndian(footer) : 0;
        if (!double.IsFinite(tr)) tr = 0;
        int[] shape = h.Dims[3] > 1 ? h.Dims.ToArray() : h.Dims[..3];
        var zooms = h.Dims[3] > 1 ? new[] { h.Delta[0], h.Delta[1], h.Delta[2], tr } : h.Delta.ToArray();
        return new SpatialImage(shape, type, data, h.Vox2Ras(), zooms, format: ImageFileFormat.Mgh, sourcePath: path, bigEndianOnDisk: true);
    }

    /// <summary>Writes an image as MGH (gzipped when the name ends .mgz or .mgh.gz). Scaled images are refused: MGH has no slope/intercept.</summary>
    public static void Write(SpatialImage image, string path)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!IsMghName(path)) throw new ArgumentException($"{path}: an MGH file is named .mgh, .mgz or .mgh.gz", nameof(path));
        if (image.IsScaled)
        {
            // MGH has no scale factor: a scaled 3-D image is written as its float32 values
            if (image.Frames == 1) { Write(SpatialImage.FromVolume(image.ToVolume(), VoxelType.Float32), path); return; }
            throw new ArgumentException($"{path}: MGH has no scale factor; this scaled {image.Frames}-frame image cannot be written as MGH", nameof(image));
        }
        if (image.NDim > 4) throw new ArgumentException($"{path}: MGH holds at most 4 dimensions, the image has {image.NDim}", nameof(image));
        int code = MghHeader.CodeOf(image.DataType);
        var dims = new[] { image.Shape[0], image.NDim > 1 ? image.Shape[1] : 1, image.NDim > 2 ? image.Shape[2] : 1, image.NDim > 3 ? image.Shape[3] : 1 };
        var h = MghHeader.FromAffine(image.Affine, dims, code, image.NDim > 3 && image.Zooms.Length > 3 ? image.Zooms[3] : 0);
        bool gz = !path.EndsWith(".mgh", StringComparison.OrdinalIgnoreCase);
        ImageFileWriter.Write(path, gz, h.ToBytes(), image.Data, image.DataType.Size(), bigEndian: true, suffix: h.FooterBytesOf());
    }

    /// <summary>Writes a float volume as MGH with the given voxel type (integers must be whole and in range).</summary>
    public static void Write(Volume volume, string path, VoxelType type = VoxelType.Float32)
    {
        var img = SpatialImage.FromVolume(volume, type);
        if (img.IsScaled) throw new ArgumentException($"{path}: the volume's values do not fit {type.Name()} unscaled, and MGH has no scale factor; write float32", nameof(type));
        Write(img, path);
    }
}
