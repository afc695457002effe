namespace BatchCohort.Imaging.Volumes;

/// <summary>
/// A 3-D integer label image on the grid model of <see cref="Volume"/> (voxel (x, y, z) at x + X·(y + Y·z)):
/// the output of <c>Labeling.Label</c> (0 = background, 1..<see cref="Count"/> = components) or an atlas
/// (AAL, tissue classes). In NumPy it is an int32 array arr[x, y, z] in Fortran order.
/// </summary>
public sealed class LabelMap
{
    public LabelMap(Shape3 shape, int[] data, Affine affine, Spacing3? spacing = null, int? count = null)
    {
        (Shape, Data, Affine, Spacing) = (shape, data, affine, Grid.Check(shape, data, affine, spacing));
        if (count is < 0) throw new ArgumentException($"count must not be negative, got {count}", nameof(count));
        Count = count ?? MaxOf(data);
    }

    public Shape3 Shape { get; }
    public int[] Data { get; }
    public Affine Affine { get; }
    public Spacing3 Spacing { get; }

    /// <summary>Number of labels: for <c>Label</c>'s output the number of components; otherwise the largest label (0 when none is positive).</summary>
    public int Count { get; }

    public int this[int x, int y, int z] => Data[Shape.Index(x, y, z)];

    /// <summary>Volume of one voxel in mm³.</summary>
    public double VoxelVolumeMm3 => Spacing.VoxelVolumeMm3;

    /// <summary>Voxels equal to <paramref name="label"/> as a mask.</summary>
    public Mask MaskOf(int label)
    {
        var dst = new byte[Data.Length];
        var src = Data;
        for (int i = 0; i < src.Length; i++) dst[i] = src[i] == label ? (byte)1 : (byte)0;
        return new Mask(Shape, dst, Affine, Spacing);
    }

    /// <summary>The labels as a float volume (exact for |label| ≤ 2²⁴).</summary>
    public Volume ToVolume()
    {
        var dst = new float[Data.Length];
        for (int i = 0; i < dst.Length; i++) dst[i] = Data[i];
        return new Volume(Shape, dst, Affine, Spacing);
    }

    /// <summary>
    /// A label map from a float volume holding whole numbers (an atlas read from NIfTI).
    /// Throws naming the volume when a voxel is NaN, infinite or not a whole number.
    /// </summary>
    public static LabelMap FromVolume(Volume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var src = volume.Data;
        var dst = new int[src.Length];
        for (int i = 0; i < src.Length; i++)
        {
            float v = src[i];
            if (!float.IsFinite(v) || v != MathF.Round(v) || v > int.MaxValue || v < int.MinValue)
            {
                var x = i % volume.Shape.X; var y = i / volume.Shape.X % volume.Shape.Y; var z = i / volume.Shape.X / volume.Shape.Y;
                throw new ArgumentException($"voxel ({x},{y},{z}) is {v}, not a whole-number label", nameof(volume));
            }
            dst[i] = (int)v;
        }
        return new LabelMap(volume.Shape, dst, volume.Affine, volume.Spacing);
    }

    private static int MaxOf(int[] data)
    {
        return Math.Max(0, System.Numerics.Tensors.TensorPrimitives.Max<int>(data));
    }

    public override string ToString() => $"LabelMap {Shape} @ {Spacing}, {Count} labels";
}
