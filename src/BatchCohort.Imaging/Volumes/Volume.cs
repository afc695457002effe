namespace BatchCohort.Imaging.Volumes;

/// <summary>
/// A 3-D scalar image held in memory as float32 for processing: voxels, grid shape, voxel spacing (mm) and the
/// voxel-to-world affine in RAS+ millimetres (the NIfTI convention). Voxel (x, y, z) is at x + X·(y + Y·z).
/// On-disk types and 4-D series live in the format layer; this is what the science code works on.
/// </summary>
public sealed class Volume
{
    public Volume(Shape3 shape, float[] data, Affine affine, Spacing3? spacing = null) =>
        (Shape, Data, Affine, Spacing) = (shape, data, affine, Grid.Check(shape, data, affine, spacing));

    public Shape3 Shape { get; }
    public float[] Data { get; }
    public Affine Affine { get; }
    public Spacing3 Spacing { get; }

    public static Volume Zeros(Shape3 shape, Affine affine, Spacing3? spacing = null) =>
        new(shape, new float[shape.Count], affine, spacing);

    /// <summary>An axis-aligned RAS volume with the given spacing and origin at voxel (0,0,0).</summary>
    public static Volume Zeros(Shape3 shape, Spacing3 spacing) =>
        new(shape, new float[shape.Count], Affine.FromSpacing(spacing.X, spacing.Y, spacing.Z), spacing);

    public float this[int x, int y, int z]
    {
        get => Data[Shape.Index(x, y, z)];
        set => Data[Shape.Index(x, y, z)] = value;
    }

    /// <summary>Volume of one voxel in mm³ (from the spacing).</summary>
    public double VoxelVolumeMm3 => Spacing.VoxelVolumeMm3;

    /// <summary>Orientation code of the voxel axes, e.g. "RAS", "LSA" (nibabel's aff2axcodes).</summary>
    public string OrientationCode => Orientation.AxisCodes(Affine);

    /// <summary>Same grid, new voxels.</summary>
    public Volume WithData(float[] data) => new(Shape, data, Affine, Spacing);

    /// <summary>Same grid, zero voxels.</summary>
    public Volume ZerosLike() => new(Shape, new float[Shape.Count], Affine, Spacing);

    public Volume Clone() => new(Shape, (float[])Data.Clone(), Affine, Spacing);

    /// <summary>World (RAS mm) coordinates of a voxel position.</summary>
    public (double X, double Y, double Z) VoxelToWorld(double x, double y, double z) => Affine.Apply(x, y, z);

    /// <summary>Reorders/flips axes (no resampling) so the voxel axes run as <paramref name="target"/> (default RAS).</summary>
    public Volume Reorient(string target = "RAS") => Reorientation.Plan(Affine, Shape, target).Apply(this);

    public override string ToString() => $"Volume {Shape} @ {Spacing} {OrientationCode}";
}
