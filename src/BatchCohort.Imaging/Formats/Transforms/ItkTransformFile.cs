using System.Globalization;
using System.Text;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Formats.Transforms;

/// <summary>
/// Affine transforms as ITK transform files ("#Insight Transform File V1.0", AffineTransform_double_3_3), the text
/// form that ITK, ANTs (antsApplyTransforms), 3D Slicer, plastimatch and SimpleITK read.
/// <para>Conventions, which decide whether a reader gets the right image:</para>
/// <list type="bullet">
/// <item>ITK works in LPS millimetres (DICOM's patient coordinates): x grows to the left, y to the posterior, z to
/// the superior. BatchCohort works in RAS (NIfTI's): LPS = diag(−1, −1, 1) · RAS.</item>
/// <item>An ITK transform used to resample maps points of the FIXED image (the output grid) to points of the MOVING
/// image (where to sample). A file named <c>from-atlas_to-T1w_mode-image</c> (BIDS/fMRIPrep naming: it brings the atlas
/// image into the subject's T1w space) therefore holds the subject → atlas point map, the inverse of BatchCohort's
/// atlas → subject affine: antsApplyTransforms -i atlas -r T1w -t this_file puts the atlas on the subject.</item>
/// <item>Parameters are the 3×3 matrix row by row, then the translation; FixedParameters the centre of rotation,
/// written as 0 0 0 (so y = M·x + t). On reading, a non-zero centre c is honoured: y = M·(x − c) + c + t.</item>
/// </list>
/// </summary>
public static class ItkTransformFile
{
    public const string Magic = "#Insight Transform File V1.0";

    private static readonly Affine RasToLps = new(new double[] { -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 });

    /// <summary>The ITK (LPS) fixed → moving point map that resamples the atlas onto the subject, from BatchCohort's atlas → subject RAS affine.</summary>
    public static Affine LpsFixedToMoving(Affine atlasToSubjectRas)
    {
        ArgumentNullException.ThrowIfNull(atlasToSubjectRas);
        return RasToLps * atlasToSubjectRas.Inverse() * RasToLps;
    }

    /// <summary>The file's text for an atlas → subject RAS affine (fixed = subject, moving = atlas).</summary>
    public static string Format(Affine atlasToSubjectRas)
    {
        var m = LpsFixedToMoving(atlasToSubjectRas);
        var p = new double[12];
        for (int r = 0; r < 3; r++) for (int c = 0; c < 3; c++) p[r * 3 + c] = m[r, c];
        p[9] = m[0, 3]; p[10] = m[1, 3]; p[11] = m[2, 3];
        var sb = new StringBuilder();
        sb.Append(Magic).Append('\n');
        sb.Append("#Transform 0\n");
        sb.Append("Transform: AffineTransform_double_3_3\n");
        sb.Append("Parameters: ").Append(string.Join(' ', p.Select(R))).Append('\n');
        sb.Append("FixedParameters: 0 0 0\n");
        return sb.ToString();
    }

    public static void Write(Affine atlasToSubjectRas, string path) => File.WriteAllText(path, Format(atlasToSubjectRas));

    /// <summary>Reads an ITK affine transform file back as the atlas → subject (moving → fixed) RAS affine.</summary>
    public static Affine ReadAtlasToSubject(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || !lines[0].StartsWith("#Insight Transform File", StringComparison.Ordinal))
            throw new ImageFormatException(path, $"not an ITK transform file (the first line is not '{Magic}')");
        string? kind = null; double[]? par = null, fix = null;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith("Transform:", StringComparison.Ordinal))
            {
                if (kind is not null) throw new ImageFormatException(path, "holds more than one transform; only a single affine is read");
                kind = line["Transform:".Length..].Trim();
            }
            else if (line.StartsWith("Parameters:", StringComparison.Ordinal)) par = Numbers(line["Parameters:".Length..], path);
            else if (line.StartsWith("FixedParameters:", StringComparison.Ordinal)) fix = Numbers(line["FixedParameters:".Length..], path);
        }
        if (kind is null || !(kind.StartsWith("AffineTransform_", StringComparison.Ordinal) || kind.StartsWith("MatrixOffsetTransformBase_", StringComparison.Ordinal)) || !kind.EndsWith("_3_3", StringComparison.Ordinal))
            throw new ImageFormatException(path, $"transform type '{kind ?? "none"}' is not a 3-D affine (AffineTransform_double_3_3)");
        if (par is null || par.Length != 12) throw new ImageFormatException(path, $"an affine needs 12 Parameters, found {par?.Length ?? 0}");
        var c = fix is { Length: 3 } ? fix : new double[3];
        var lin = new double[3, 3];
        for (int r = 0; r < 3; r++) for (int k = 0; k < 3; k++) lin[r, k] = par[r * 3 + k];
        var t = new double[3];
        for (int r = 0; r < 3; r++) t[r] = par[9 + r] + c[r] - (lin[r, 0] * c[0] + lin[r, 1] * c[1] + lin[r, 2] * c[2]);
        var lps = Affine.FromLinear(lin, t[0], t[1], t[2]);
        return (RasToLps * lps * RasToLps).Inverse();
    }

    private static double[] Numbers(string s, string path)
    {
        var parts = s.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var r = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out r[i]) || !double.IsFinite(r[i]))
                throw new ImageFormatException(path, $"'{parts[i]}' is not a number");
        return r;
    }

    internal static string R(double v) => (v + 0.0).ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// The same affine as an elastix/transformix TransformParameters file ("(Transform \"AffineTransform\")", LPS, fixed →
/// moving like ITK), for a given fixed image grid (the subject's: size, spacing, origin and direction in LPS).
/// transformix -def applies it to points, transformix -in resamples an atlas image onto the subject grid.
/// </summary>
public static class ElastixTransformFile
{
    /// <summary>Text of the parameter file; <paramref name="subjectShape"/> and <paramref name="subjectAffine"/> (RAS voxel → world) are the fixed grid.</summary>
    public static string Format(Affine atlasToSubjectRas, Shape3 subjectShape, Affine subjectAffine, int interpolationOrder = 1)
    {
        var m = ItkTransformFile.LpsFixedToMoving(atlasToSubjectRas);
        var p = new double[12];
        for (int r = 0; r < 3; r++) for (int c = 0; c < 3; c++) p[r * 3 + c] = m[r, c];
        p[9] = m[0, 3]; p[10] = m[1, 3]; p[11] = m[2, 3];
        // the fixed grid in ITK terms: LPS voxel→world = origin + D·diag(spacing)·index
        var lpsGrid = new Affine(new double[] { -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 }) * subjectAffine;
        var z = lpsGrid.Zooms;
        var sp = new[] { z.X, z.Y, z.Z };
        var dir = new double[3, 3];
        for (int r = 0; r < 3; r++) for (int c = 0; c < 3; c++) dir[r, c] = lpsGrid[r, c] / sp[c];
        string R(double v) => ItkTransformFile.R(v);
        var sb = new StringBuilder();
        sb.Append("(Transform \"AffineTransform\")\n(NumberOfParameters 12)\n");
        sb.Append("(TransformParameters ").Append(string.Join(' ', p.Select(R))).Append(")\n");
        sb.Append("(InitialTransformParametersFileName \"NoInitialTransform\")\n(HowToCombineTransforms \"Compose\")\n");
        sb.Append("(FixedImageDimension 3)\n(MovingImageDimension 3)\n(FixedInternalImagePixelType \"float\")\n(MovingInternalImagePixelType \"float\")\n");
        sb.Append(FormattableString.Invariant($"(Size {subjectShape.X} {subjectShape.Y} {subjectShape.Z})\n(Index 0 0 0)\n"));
        sb.Append("(Spacing ").Append(string.Join(' ', sp.Select(R))).Append(")\n");
        sb.Append("(Origin ").Append(R(lpsGrid[0, 3])).Append(' ').Append(R(lpsGrid[1, 3])).Append(' ').Append(R(lpsGrid[2, 3])).Append(")\n");
        // elastix lists the direction matrix column by column
        sb.Append("(Direction ");
        for (int c = 0; c < 3; c++) for (int r = 0; r < 3; r++) sb.Append(R(dir[r, c])).Append(c == 2 && r == 2 ? "" : " ");
        sb.Append(")\n(UseDirectionCosines \"true\")\n");
        sb.Append("(CenterOfRotationPoint 0 0 0)\n");
        sb.Append("(ResampleInterpolator \"FinalBSplineInterpolator\")\n");
        sb.Append(FormattableString.Invariant($"(FinalBSplineInterpolationOrder {interpolationOrder})\n"));
        sb.Append("(Resampler \"DefaultResampler\")\n(DefaultPixelValue 0)\n(ResultImageFormat \"nii\")\n(ResultImagePixelType \"float\")\n(CompressResultImage \"false\")\n");
        return sb.ToString();
    }
}
