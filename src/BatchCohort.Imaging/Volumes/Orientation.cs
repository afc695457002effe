using BatchCohort.Imaging.Processing;
using MathNet.Numerics.LinearAlgebra;

namespace BatchCohort.Imaging.Volumes;

/// <summary>
/// Orientation of voxel axes relative to RAS+ world axes, following nibabel's io_orientation / aff2axcodes:
/// the linear part is normalised by the voxel sizes, its nearest orthogonal matrix (polar decomposition by SVD) is
/// taken, and each voxel axis in turn is assigned the world axis with the largest absolute cosine that is still free.
/// </summary>
public static class Orientation
{
    private static readonly char[] Positive = { 'R', 'A', 'S' };
    private static readonly char[] Negative = { 'L', 'P', 'I' };

    /// <summary>For each voxel axis: the world axis (0=x/R-L, 1=y/A-P, 2=z/S-I) it runs along and the sign (+1 toward R/A/S).</summary>
    public static (int WorldAxis, int Sign)[] IoOrientation(Affine affine)
    {
        var rs = Matrix<double>.Build.DenseOfArray(affine.UnitColumns());
        var svd = rs.Svd(true);
        double tol = svd.S.Maximum() * 3 * 2.220446049250313e-16; // nibabel: S.max() * max(RS.shape) * eps(float64)
        var r = Matrix<double>.Build.Dense(3, 3);
        for (int k = 0; k < 3; k++)
        {
            if (svd.S[k] <= tol) continue;
            r += svd.U.Column(k).OuterProduct(svd.VT.Row(k));
        }
        var result = new (int, int)[3];
        for (int inAx = 0; inAx < 3; inAx++)
        {
            // nibabel: skip a column that is allclose to 0, else np.argmax(|col|) (first maximum wins ties).
            int best = -1; double bestAbs = 0;
            for (int o = 0; o < 3; o++)
            {
                double a = Math.Abs(r[o, inAx]);
                if (a > bestAbs) { bestAbs = a; best = o; }
            }
            if (bestAbs <= 1e-8) best = -1; // np.allclose(col, 0): |x| <= atol 1e-8
            if (best < 0) throw new InvalidOperationException("affine has a degenerate voxel axis; orientation is undefined");
            result[inAx] = (best, r[best, inAx] < 0 ? -1 : 1);
            for (int j = 0; j < 3; j++) r[best, j] = 0;
        }
        return result;
    }

    /// <summary>Three letters, e.g. "RAS" or "LSA": the direction each voxel axis increases toward.</summary>
    public static string AxisCodes(Affine affine)
    {
        var o = IoOrientation(affine);
        return new string(o.Select(a => a.Sign > 0 ? Positive[a.WorldAxis] : Negative[a.WorldAxis]).ToArray());
    }

    /// <summary>Parses an orientation code into (world axis, sign) per voxel axis; rejects codes that are not a permutation.</summary>
    public static (int WorldAxis, int Sign)[] Parse(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (code.Length != 3) throw new ArgumentException($"orientation code must have 3 letters, got '{code}'", nameof(code));
        var res = new (int, int)[3];
        var used = new bool[3];
        for (int i = 0; i < 3; i++)
        {
            char c = char.ToUpperInvariant(code[i]);
            int p = Array.IndexOf(Positive, c), n = Array.IndexOf(Negative, c);
            int ax = p >= 0 ? p : n;
            if (ax < 0) throw new ArgumentException($"'{code[i]}' is not one of R L A P S I in orientation code '{code}'", nameof(code));
            if (used[ax]) throw new ArgumentException($"orientation code '{code}' names one world axis twice", nameof(code));
            used[ax] = true;
            res[i] = (ax, p >= 0 ? 1 : -1);
        }
        return res;
    }
}

/// <summary>
/// An exact axis permutation + flips that takes a volume from its stored orientation to a target orientation
/// without resampling (nibabel's as_closest_canonical / ornt_transform), and back with <see cref="Invert"/>.
/// </summary>
public sealed class Reorientation
{
    private Reorientation(Shape3 source, int[] srcAxisOfNew, bool[] flipNew, Affine indexMap)
    {
        SourceShape = source;
        SourceAxisOfTarget = srcAxisOfNew;
        Flip = flipNew;
        IndexMap = indexMap;
        TargetShape = new Shape3(source[srcAxisOfNew[0]], source[srcAxisOfNew[1]], source[srcAxisOfNew[2]]);
    }

    public Shape3 SourceShape { get; }
    public Shape3 TargetShape { get; }
    /// <summary>For target axis k, the source voxel axis it comes from.</summary>
    public IReadOnlyList<int> SourceAxisOfTarget { get; }
    /// <summary>For target axis k, whether it runs opposite to its source axis.</summary>
    public IReadOnlyList<bool> Flip { get; }
    /// <summary>Maps target voxel indices to source voxel indices (homogeneous).</summary>
    public Affine IndexMap { get; }

    public bool IsIdentity => SourceAxisOfTarget[0] == 0 && SourceAxisOfTarget[1] == 1 && SourceAxisOfTarget[2] == 2 && !Flip.Any(f => f);

    public static Reorientation Plan(Affine affine, Shape3 shape, string target = "RAS")
    {
        var src = Orientation.IoOrientation(affine);
        var tgt = Orientation.Parse(target);
        var srcAxis = new int[3];
        var flip = new bool[3];
        for (int k = 0; k < 3; k++)
        {
            int i = Array.FindIndex(src, s => s.WorldAxis == tgt[k].WorldAxis);
            srcAxis[k] = i;
            flip[k] = src[i].Sign != tgt[k].Sign;
        }
        // source index s[srcAxis[k]] = flip[k] ? (dim-1 - n[k]) : n[k]
        var m = new double[16];
        m[15] = 1;
        for (int k = 0; k < 3; k++)
        {
            int i = srcAxis[k];
            m[i * 4 + k] = flip[k] ? -1 : 1;
            m[i * 4 + 3] = flip[k] ? shape[i] - 1 : 0;
        }
        return new Reorientation(shape, srcAxis, flip, new Affine(m));
    }

    public Volume Apply(Volume v)
    {
        if (v.Shape != SourceShape) throw new ArgumentException($"volume shape {v.Shape} differs from planned {SourceShape}", nameof(v));
        if (IsIdentity) return v.Clone();
        var t = TargetShape;
        var outData = new float[t.Count];
        var src = v.Data;
        // stride in source for a unit step along each target axis
        var srcStrides = new long[] { 1, SourceShape.X, (long)SourceShape.X * SourceShape.Y };
        long[] step = new long[3];
        long start = 0;
        for (int k = 0; k < 3; k++)
        {
            long s = srcStrides[SourceAxisOfTarget[k]];
            step[k] = Flip[k] ? -s : s;
            if (Flip[k]) start += s * (SourceShape[SourceAxisOfTarget[k]] - 1);
        }
        Parallelism.For(0, t.Z, z =>
        {
            long baseZ = start + step[2] * z;
            int o = t.X * t.Y * z;
            for (int y = 0; y < t.Y; y++)
            {
                long p = baseZ + step[1] * y;
                for (int x = 0; x < t.X; x++, p += step[0]) outData[o++] = src[p];
            }
        });
        var sp = new Spacing3(v.Spacing[SourceAxisOfTarget[0]], v.Spacing[SourceAxisOfTarget[1]], v.Spacing[SourceAxisOfTarget[2]]);
        return new Volume(t, outData, v.Affine * IndexMap, sp);
    }

    /// <summary>Takes a volume on the target grid (e.g. a mask computed in canonical space) back to the source grid.</summary>
    public Volume Invert(Volume v)
    {
        if (v.Shape != TargetShape) throw new ArgumentException($"volume shape {v.Shape} differs from target {TargetShape}", nameof(v));
        return Inverse().Apply(v);
    }

    /// <summary>The exact inverse plan: from the target grid back to the source grid (inverse permutation, same flips).</summary>
    public Reorientation Inverse()
    {
        var inv = new int[3];
        var flip = new bool[3];
        for (int k = 0; k < 3; k++)
        {
            inv[SourceAxisOfTarget[k]] = k;
            flip[SourceAxisOfTarget[k]] = Flip[k];
        }
        return new Reorientation(TargetShape, inv, flip, IndexMap.Inverse());
    }
}
