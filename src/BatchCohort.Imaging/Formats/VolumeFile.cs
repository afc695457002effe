using BatchCohort.Imaging.Formats.Analyze;
using BatchCohort.Imaging.Formats.Common;
using BatchCohort.Imaging.Formats.Nifti1;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Formats;

/// <summary>
/// The one entry point for image files.
/// <list type="bullet">
/// <item><see cref="Read"/>: .nii, .nii.gz (NIfTI-1/NIfTI-2), .hdr/.img pairs (NIfTI-1 pair if the header has the
/// "ni1" magic, else Analyze 7.5; either member may be gzipped), files of other names by their magic, and whatever
/// further readers are registered in <see cref="Readers"/> (DICOM).</item>
/// <item><see cref="ReadVolume"/>: one frame as the float32 <see cref="Volume"/>.</item>
/// <item>FreeSurfer .mgh/.mgz (and .mgh.gz) by name, read and written (<see cref="Mgh.MghFile"/>).</item>
/// <item><see cref="Write(Volume, string, VoxelType)"/>: by name — .nii/.nii.gz → NIfTI-1; .mgh/.mgz → MGH; .hdr/.img(.gz) →
/// Analyze 7.5 (the OASIS-1 format; use <see cref="WriteNiftiPair(Volume, string, VoxelType, NiftiWriteOptions?)"/>
/// for a NIfTI-1 pair).</item>
/// </list>
/// Every failure to read is an <see cref="ImageFormatException"/> naming the file and the problem.
/// </summary>
public static class VolumeFile
{
    /// <summary>
    /// Readers tried in order before the built-in Analyze/NIfTI reader. DICOM: add the DICOM reader here
    /// (it sees folders and files whose bytes 128..131 are "DICM").
    /// </summary>
    public static IReadOnlyList<IImageFileReader> Readers { get; } = new List<IImageFileReader>
    {
        new Dicom.DicomFileReader(),
        new Mgh.MghFileReader(),
    };

    /// <summary>Reads an image with its raw typed voxels (all frames).</summary>
    public static SpatialImage Read(string path)
    {
        var claimed = Dispatch(path, out bool isDir, out var head);
        if (claimed is not null) return claimed.Read(path);
        if (isDir) throw ImageFormatException.NoImagesIn(path);
        if (head.Length >= 132 && head.AsSpan(128, 4).SequenceEqual("DICM"u8))
            throw new ImageFormatException(path, "is a DICOM file; no DICOM reader is available");
        return HeaderImageReader.Read(path);
    }

    /// <summary>
    /// Reads one frame (default the first) as a float32 volume with scaling applied. For NIfTI/Analyze files the frame
    /// is streamed straight into the volume (no copy of the raw file is kept).
    /// </summary>
    public static Volume ReadVolume(string path, int frame = 0)
    {
        var claimed = Dispatch(path, out bool isDir, out var head);
        bool dicomFile = head.Length >= 132 && head.AsSpan(128, 4).SequenceEqual("DICM"u8);
        if (claimed is not null || isDir || dicomFile || ImagePaths.KindOf(path) == ImagePaths.Kind.Unknown)
        {
            var img = Read(path);
            if (frame < 0 || frame >= img.Frames)
                throw new ArgumentOutOfRangeException(nameof(frame), frame, $"{path} has {img.Frames} frame(s)");
            return img.ToVolume(frame);
        }
        return HeaderImageReader.ReadVolume(path, frame);
    }

    /// <summary>The registered reader that claims the path (null: the built-in Analyze/NIfTI reader's turn).</summary>
    private static IImageFileReader? Dispatch(string path, out bool isDir, out byte[] head)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        isDir = Directory.Exists(path);
        // A pair may be named by a member that is absent (X.img given, only X.img.gz on disk, …).
        if (!isDir && !File.Exists(path) && ImagePaths.KindOf(path) != ImagePaths.Kind.Pair)
            throw new ImageFormatException(path, "file not found");
        head = isDir || !File.Exists(path) ? Array.Empty<byte>() : Head(path);
        foreach (var r in Readers)
            if (r.CanRead(path, head)) return r;
        return null;
    }

    /// <summary>
    /// Writes a volume by file name: .nii/.nii.gz → NIfTI-1, .hdr/.img(.gz) → Analyze 7.5 (reoriented to LAS, see
    /// <see cref="WriteAnalyze(Volume, string, VoxelType, AnalyzeWriteOptions?)"/>). Integer types are scaled when the
    /// values are not integers in range (see <see cref="SpatialImage.FromVolume"/>).
    /// </summary>
    public static void Write(Volume volume, string path, VoxelType type = VoxelType.Float32)
    {
        if (Mgh.MghFile.IsMghName(path)) { Mgh.MghFile.Write(volume, path, type); return; }
        switch (ImagePaths.KindOf(path))
        {
            case ImagePaths.Kind.Single: WriteNifti(volume, path, type); break;
            case ImagePaths.Kind.Pair: WriteAnalyze(volume, path, type); break;
            default: throw new ArgumentException($"{path}: cannot tell the format from the name; use .nii, .nii.gz, or .hdr/.img (Analyze 7.5)", nameof(path));
        }
    }

    /// <summary>Writes an image unchanged (raw voxels, scaling, header fields) by file name: .nii/.nii.gz → NIfTI-1; .hdr/.img → NIfTI-1 pair when it came from NIfTI, else Analyze 7.5.</summary>
    public static void Write(SpatialImage image, string path)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (Mgh.MghFile.IsMghName(path)) { Mgh.MghFile.Write(image, path); return; }
        switch (ImagePaths.KindOf(path))
        {
            case ImagePaths.Kind.Single: Nifti1Writer.Write(image, path); break;
            case ImagePaths.Kind.Pair:
                if (image.Header is Nifti1Header || image.Format is ImageFileFormat.Nifti1 or ImageFileFormat.Nifti1Pair or ImageFileFormat.Nifti2 or ImageFileFormat.Nifti2Pair)
                    Nifti1Writer.Write(image, path);
                else
                    AnalyzeWriter.Write(image, path);
                break;
            default: throw new ArgumentException($"{path}: cannot tell the format from the name; use .nii, .nii.gz, or .hdr/.img", nameof(path));
        }
    }

    /// <summary>NIfTI-1 single file (.nii, .nii.gz) or pair (.hdr/.img) with sform and qform from the volume's affine.</summary>
    public static void WriteNifti(Volume volume, string path, VoxelType type = VoxelType.Float32, NiftiWriteOptions? options = null) =>
        Nifti1Writer.Write(SpatialImage.FromVolume(volume, type), path, options);

    /// <summary>NIfTI-1 pair (.hdr + .img, magic "ni1").</summary>
    public static void WriteNiftiPair(Volume volume, string path, VoxelType type = VoxelType.Float32, NiftiWriteOptions? options = null)
    {
        if (ImagePaths.KindOf(path) != ImagePaths.Kind.Pair) throw new ArgumentException($"{path}: a NIfTI pair is named .hdr or .img", nameof(path));
        Nifti1Writer.Write(SpatialImage.FromVolume(volume, type), path, options);
    }

    public static void WriteNifti(SpatialImage image, string path, NiftiWriteOptions? options = null) => Nifti1Writer.Write(image, path, options);

    /// <summary>
    /// Analyze 7.5 (.hdr + .img, or both .gz). The voxels are first reoriented to LAS — the only orientation an
    /// Analyze header can express (nibabel/SPM convention: diag(−dx, dy, dz)) — by axis flips and permutations, so
    /// the file describes the same image in world space; the array read back is in LAS order. Oblique affines, or an
    /// origin that is not at a whole voxel or the array centre, are refused unless options allow an approximation.
    /// </summary>
    public static void WriteAnalyze(Volume volume, string path, VoxelType type = VoxelType.Int16, AnalyzeWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var las = volume.OrientationCode == "LAS" ? volume : volume.Reorient("LAS");
        AnalyzeWriter.Write(SpatialImage.FromVolume(las, type), path, options);
    }

    public static void WriteAnalyze(SpatialImage image, string path, AnalyzeWriteOptions? options = null) => AnalyzeWriter.Write(image, path, options);

    private static byte[] Head(string path)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
            var b = new byte[Math.Min(1024, fs.Length)];
            fs.ReadExactly(b);
            return b;
        }
        catch (UnauthorizedAccessException ex) { throw new ImageFormatException(path, "permission denied", ex); }
    }
}
