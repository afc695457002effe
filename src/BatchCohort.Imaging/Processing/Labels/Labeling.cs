using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Labels;

/// <summary>A bounding box of voxel indices, half-open like Python slices: x in [X0, X1), y in [Y0, Y1), z in [Z0, Z1).</summary>
public readonly record struct BoundingBox(int X0, int X1, int Y0, int Y1, int Z0, int Z1)
{
    public Shape3 Size => new(X1 - X0, Y1 - Y0, Z1 - Z0);
    public override string ToString() => $"[{X0}:{X1}, {Y0}:{Y1}, {Z0}:{Z1}]";
}

/// <summary>
/// scipy.ndimage.label, find_objects and the "largest connected component" idiom on <see cref="Mask"/>s.
/// <para>
/// Numbering: identical to scipy.ndimage.label applied to the NumPy array arr[x, y, z] (what nibabel gives for a
/// NIfTI file): components are numbered 1..n in the order of their first voxel in C order of that array, which is
/// lexicographic (x, y, z) order with z varying fastest. (Our storage is x-fastest; the numbering is deliberately
/// the array-order one so that a label number means the same component in both.)
/// </para>
/// </summary>
public static class Labeling
{
    /// <summary>
    /// scipy.ndimage.label(input, structure=generate_binary_structure(3, rank)) with
    /// <paramref name="connectivity"/> 6 (scipy's default), 18 or 26. Returns the label map; its
    /// <see cref="LabelMap.Count"/> is the number of components.
    /// </summary>
    public static LabelMap Label(Mask input, int connectivity = 6)
    {
        ArgumentNullException.ThrowIfNull(input);
        var nb = RunComponents.Neighbours3D(connectivity);
        var comps = RunComponents.Find(input.Data, input.Shape, selectNonZero: true, nb);
        var (runLabel, n) = comps.NumberInScipyOrder();
        var labels = GC.AllocateUninitializedArray<int>((int)input.Shape.Count);
        comps.PaintAll(labels, runLabel);
        return new LabelMap(input.Shape, labels, input.Affine, input.Spacing, n);
    }

    /// <summary>scipy.ndimage.label(input, structure) where the structure is one of generate_binary_structure(3, 1|2|3).</summary>
    public static LabelMap Label(Mask input, StructuringElement structure)
    {
        ArgumentNullException.ThrowIfNull(structure);
        int c = structure.Connectivity;
        if (c == 0)
            throw new ArgumentException($"label supports the 6-, 18- and 26-neighbourhoods (generate_binary_structure(3, 1|2|3)), not {structure}", nameof(structure));
        return Label(input, c);
    }

    /// <summary>
    /// The largest connected component (by voxel count; on a tie, the one scipy's label numbers first).
    /// Throws when the mask is empty: there is no component to keep.
    /// </summary>
    public static Mask LargestComponent(Mask input, int connectivity = 6)
    {
        ArgumentNullException.ThrowIfNull(input);
        var nb = RunComponents.Neighbours3D(connectivity);
        var comps = RunComponents.Find(input.Data, input.Shape, selectNonZero: true, nb);
        if (comps.RunCount == 0) throw new ArgumentException("mask is empty: it has no component", nameof(input));
        var (runLabel, n) = comps.NumberInScipyOrder();
        var size = new long[n + 1];
        for (int i = 0; i < comps.RunCount; i++) size[runLabel[i]] += comps.End[i] - comps.Start[i] + 1;
        int best = 1;
        for (int l = 2; l <= n; l++) if (size[l] > size[best]) best = l;
        var keep = new byte[comps.RunCount];
        for (int i = 0; i < keep.Length; i++) keep[i] = runLabel[i] == best ? (byte)1 : (byte)0;
        var dst = GC.AllocateUninitializedArray<byte>((int)input.Shape.Count);
        comps.PaintAll(dst, keep);
        return input.WithData(dst);
    }

    /// <summary>
    /// scipy.ndimage.find_objects(labels, max_label): element i is the bounding box of label i+1, or null when that
    /// label does not occur. <paramref name="maxLabel"/> 0 means the largest label present.
    /// </summary>
    public static BoundingBox?[] FindObjects(LabelMap labels, int maxLabel = 0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (maxLabel < 0) throw new ArgumentException($"maxLabel must not be negative, got {maxLabel}", nameof(maxLabel));
        var d = labels.Data;
        var s = labels.Shape;
        int m = maxLabel;
        if (m == 0) m = MaxLabel(d);
        if (m > Math.Max(1 << 20, s.Count))
            throw new ArgumentException($"labels go up to {m}: find_objects would return {m} entries for {s.Count} voxels; pass a smaller maxLabel",
                maxLabel > 0 ? nameof(maxLabel) : nameof(labels));
        // per-thread boxes over slabs of z, merged at the end; runs of one label along x update a box once
        int X = s.X, Y = s.Y;
        int chunks = Math.Min(s.Z, Math.Max(1, Parallelism.Degree * 2));
        var parts = new int[chunks][];
        Parallelism.For(0, chunks, c =>
        {
            int za = (int)((long)s.Z * c / chunks), zb = (int)((long)s.Z * (c + 1) / chunks);
            var box = NewBoxes(m);
            for (int z = za; z < zb; z++)
            for (int y = 0; y < Y; y++)
            {
                var row = d.AsSpan((y + Y * z) * X, X);
                int x = 0;
                while (x < X)
                {
                    int a = row[x..].IndexOfAnyExcept(0);
                    if (a < 0) break;
                    a += x;
                    int l = row[a], e = a + 1;
                    while (e < X && row[e] == l) e++;
                    x = e;
                    if (l < 0 || l > m) continue;
                    int o = 6 * l;
                    if (a < box[o]) box[o] = a;
                    if (e - 1 > box[o + 1]) box[o + 1] = e - 1;
                    if (y < box[o + 2]) box[o + 2] = y;
                    if (y > box[o + 3]) box[o + 3] = y;
                    if (z < box[o + 4]) box[o + 4] = z;
                    if (z > box[o + 5]) box[o + 5] = z;
                }
            }
            parts[c] = box;
        });
        var all = parts[0];
        for (int c = 1; c < chunks; c++)
        {
            var p = parts[c];
            for (int l = 1; l <= m; l++)
            {
                int o = 6 * l;
                all[o] = Math.Min(all[o], p[o]); all[o + 1] = Math.Max(all[o + 1], p[o + 1]);
                all[o + 2] = Math.Min(all[o + 2], p[o + 2]); all[o + 3] = Math.Max(all[o + 3], p[o + 3]);
                all[o + 4] = Math.Min(all[o + 4], p[o + 4]); all[o + 5] = Math.Max(all[o + 5], p[o + 5]);
            }
        }
        var result = new BoundingBox?[m];
        for (int l = 1; l <= m; l++)
        {
            int o = 6 * l;
            if (all[o + 1] >= 0) result[l - 1] = new BoundingBox(all[o], all[o + 1] + 1, all[o + 2], all[o + 3] + 1, all[o + 4], all[o + 5] + 1);
        }
        return result;
    }

    /// <summary>(x0, x1, y0, y1, z0, z1) per label, inclusive, empty = (max, −1, …).</summary>
    private static int[] NewBoxes(int m)
    {
        var b = new int[6 * (m + 1)];
        for (int l = 0; l <= m; l++)
        {
            int o = 6 * l;
            b[o] = int.MaxValue; b[o + 1] = -1; b[o + 2] = int.MaxValue; b[o + 3] = -1; b[o + 4] = int.MaxValue; b[o + 5] = -1;
        }
        return b;
    }

    private static int MaxLabel(int[] d)
    {
        return Math.Max(0, System.Numerics.Tensors.TensorPrimitives.Max<int>(d));
    }
}
