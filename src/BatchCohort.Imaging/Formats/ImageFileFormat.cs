namespace BatchCohort.Imaging.Formats;

/// <summary>The on-disk format an image was read from (or is to be written as).</summary>
public enum ImageFileFormat
{
    /// <summary>Built in memory (e.g. from a Volume).</summary>
    None = 0,
    /// <summary>NIfTI-1 single file (.nii, .nii.gz).</summary>
    Nifti1,
    /// <summary>NIfTI-1 header/image pair (.hdr + .img, magic "ni1").</summary>
    Nifti1Pair,
    /// <summary>NIfTI-2 single file (read only).</summary>
    Nifti2,
    /// <summary>NIfTI-2 pair (read only).</summary>
    Nifti2Pair,
    /// <summary>Analyze 7.5 (.hdr + .img, SPM99/SPM2 conventions for scale and origin).</summary>
    Analyze75,
    /// <summary>DICOM Part 10 file or series (added by the DICOM reader).</summary>
    Dicom,
    /// <summary>FreeSurfer MGH (.mgh) or gzipped MGH (.mgz).</summary>
    Mgh,
}
