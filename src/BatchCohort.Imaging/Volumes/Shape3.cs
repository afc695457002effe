namespace BatchCohort.Imaging.Volumes;

/// <summary>Dimensions of a 3-D grid. Voxel (x, y, z) is stored at index x + X·(y + Y·z) — x fastest, as on disk in NIfTI.</summary>
public readonly record struct Shape3(int X, int Y, int Z)
{
    public long Count => (long)X * Y * Z;

    public int Index(int x, int y, int z) => x + X * (y + Y * z);

    public bool Contains(int x, int y, int z) => (uint)x < (uint)X && (uint)y < (uint)Y && (uint)z < (uint)Z;

    public int this[int axis] => axis switch { 0 => X, 1 => Y, 2 => Z, _ => throw new ArgumentOutOfRangeException(nameof(axis)) };

    public override string ToString() => $"{X}×{Y}×{Z}";

    public void Validate(string paramName = "shape")
    {
        if (X <= 0 || Y <= 0 || Z <= 0) throw new ArgumentException($"dimensions must be positive, got {this}", paramName);
        if (Count > Array.MaxLength) throw new ArgumentException($"{this} = {Count} voxels is more than one array can hold", paramName);
    }
}

/// <summary>Voxel sizes in millimetres along the three voxel axes.</summary>
public readonly record struct Spacing3(double X, double Y, double Z)
{
    public double VoxelVolumeMm3 => X * Y * Z;
    public double this[int axis] => axis switch { 0 => X, 1 => Y, 2 => Z, _ => throw new ArgumentOutOfRangeException(nameof(axis)) };
    public static Spacing3 Isotropic(double s) => new(s, s, s);
    public override string ToString() => FormattableString.Invariant($"{X:0.####}×{Y:0.####}×{Z:0.####} mm");

    public void Validate(string paramName = "spacing")
    {
        if (!(X > 0) || !(Y > 0) || !(Z > 0) || !double.IsFinite(X) || !double.IsFinite(Y) || !double.IsFinite(Z))
            throw new ArgumentException($"voxel spacing must be positive and finite, got {this}", paramName);
    }
}

/// <summary>The checks every image on the grid model (<see cref="Volume"/>, <see cref="Mask"/>, <see cref="LabelMap"/>) makes of its parts.</summary>
internal static class Grid
{
    /// <summary>
    /// Checks a shape, the voxel array that fills it and the voxel-to-world affine, and returns the spacing: the one
    /// given, or the affine's column norms. <see cref="ArgumentException"/> naming the argument otherwise.
    /// </summary>
    public static Spacing3 Check(Shape3 shape, Array data, Affine affine, Spacing3? spacing)
    {
        shape.Validate(nameof(shape));
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(affine);
        if (data.LongLength != shape.Count)
            throw new ArgumentException($"data has {data.LongLength} voxels but shape {shape} needs {shape.Count}", nameof(data));
        var z = affine.Zooms;
        var s = spacing ?? new Spacing3(z.X, z.Y, z.Z);
        s.Validate(nameof(spacing));
        return s;
    }
}
