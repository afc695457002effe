namespace BatchCohort.Imaging;

/// <summary>
/// A file could not be read or written as an image. The message names the file and the problem in words a user
/// can act on; the CLI prints it as one line. Format readers throw this (or a subclass), never a raw IndexOutOfRange.
/// </summary>
public class ImageFormatException : IOException
{
    public ImageFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>A folder in which no reader found an image.</summary>
    public static ImageFormatException NoImagesIn(string folder) =>
        new(folder, "no image files found", $"no image files found in {folder} (looked for .nii, .nii.gz, .hdr/.img, DICOM)");

    private ImageFormatException(string path, string problem, string message) : base(message)
    {
        FilePath = path;
        Problem = problem;
    }

    public string FilePath { get; }
    public string Problem { get; }
}
