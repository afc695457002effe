namespace BatchCohort.Imaging.Volumes;

/// <summary>
/// A 4×4 homogeneous transform, row-major, in millimetres. Used for voxel-to-world (RAS+, the NIfTI convention)
/// and world-to-world transforms. Immutable.
/// </summary>
public sealed class Affine : IEquatable<Affine>
{
    private readonly double[] _m; // row-major 16

    public Affine(double[] rowMajor16)
    {
        ArgumentNullException.ThrowIfNull(rowMajor16);
        if (rowMajor16.Length != 16) throw new ArgumentException("an affine needs 16 values (row-major 4×4)", nameof(rowMajor16));
        foreach (var v in rowMajor16)
            if (!double.IsFinite(v)) throw new ArgumentException("affine contains a non-finite value", nameof(rowMajor16));
        _m = (double[])rowMajor16.Clone();
    }

    public static Affine Identity { get; } = new(new double[] { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 });

    /// <summary>Diagonal scaling with a translation: the affine of an axis-aligned (RAS) grid.</summary>
    public static Affine FromSpacing(double sx, double sy, double sz, double ox = 0, double oy = 0, double oz = 0) =>
        new(new[] { sx, 0, 0, ox, 0, sy, 0, oy, 0, 0, sz, oz, 0, 0, 0, 1 });

    /// <summary>Builds from a 3×3 linear part (row-major) and a translation.</summary>
    public static Affine FromLinear(double[,] linear, double tx, double ty, double tz)
    {
        if (linear.GetLength(0) != 3 || linear.GetLength(1) != 3) throw new ArgumentException("linear part must be 3×3", nameof(linear));
        return new(new[]
        {
            linear[0, 0], linear[0, 1], linear[0, 2], tx,
            linear[1, 0], linear[1, 1], linear[1, 2], ty,
            linear[2, 0], linear[2, 1], linear[2, 2], tz,
            0, 0, 0, 1,
        });
    }

    public double this[int row, int col] => _m[row * 4 + col];

    public double[] ToArray() => (double[])_m.Clone();

    /// <summary>The 3×3 linear part (rotation·zoom·shear).</summary>
    public double[,] Linear
    {
        get
        {
            var r = new double[3, 3];
            for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) r[i, j] = _m[i * 4 + j];
            return r;
        }
    }

    public (double X, double Y, double Z) Translation => (_m[3], _m[7], _m[11]);

    /// <summary>Column norms of the linear part: voxel sizes along each voxel axis (nibabel's voxel_sizes).</summary>
    public (double X, double Y, double Z) Zooms
    {
        get
        {
            double c(int j) => Math.Sqrt(_m[j] * _m[j] + _m[4 + j] * _m[4 + j] + _m[8 + j] * _m[8 + j]);
            return (c(0), c(1), c(2));
        }
    }

    /// <summary>
    /// The linear part with each column divided by its norm: the voxel axes as unit vectors in world space. A zero
    /// column stays zero (nibabel's io_orientation) or, with <paramref name="identityForZeroColumns"/>, becomes the
    /// matching column of the identity (nibabel's set_qform).
    /// </summary>
    public double[,] UnitColumns(bool identityForZeroColumns = false)
    {
        var lin = Linear;
        var z = Zooms;
        var zooms = new[] { z.X, z.Y, z.Z };
        var rs = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                rs[i, j] = zooms[j] != 0 ? lin[i, j] / zooms[j] : identityForZeroColumns && i == j ? 1 : 0;
        return rs;
    }

    public double Determinant3 =>
        _m[0] * (_m[5] * _m[10] - _m[6] * _m[9])
        - _m[1] * (_m[4] * _m[10] - _m[6] * _m[8])
        + _m[2] * (_m[4] * _m[9] - _m[5] * _m[8]);

    public (double X, double Y, double Z) Apply(double x, double y, double z) =>
        (_m[0] * x + _m[1] * y + _m[2] * z + _m[3],
         _m[4] * x + _m[5] * y + _m[6] * z + _m[7],
         _m[8] * x + _m[9] * y + _m[10] * z + _m[11]);

    /// <summary>this · other (apply other first, then this).</summary>
    public Affine Multiply(Affine other)
    {
        var r = new double[16];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                double s = 0;
                for (int k = 0; k < 4; k++) s += _m[i * 4 + k] * other._m[k * 4 + j];
                r[i * 4 + j] = s;
            }
        return new Affine(r);
    }

    public static Affine operator *(Affine a, Affine b) => a.Multiply(b);

    public Affine Inverse()
    {
        // Affine inverse: [A t]^-1 = [A^-1, -A^-1 t]
        double a = _m[0], b = _m[1], c = _m[2], d = _m[4], e = _m[5], f = _m[6], g = _m[8], h = _m[9], i = _m[10];
        double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
        if (Math.Abs(det) < 1e-300 || !double.IsFinite(det))
            throw new InvalidOperationException("affine is singular and cannot be inverted");
        double inv = 1.0 / det;
        var r = new double[16];
        r[0] = (e * i - f * h) * inv; r[1] = (c * h - b * i) * inv; r[2] = (b * f - c * e) * inv;
        r[4] = (f * g - d * i) * inv; r[5] = (a * i - c * g) * inv; r[6] = (c * d - a * f) * inv;
        r[8] = (d * h - e * g) * inv; r[9] = (b * g - a * h) * inv; r[10] = (a * e - b * d) * inv;
        double tx = _m[3], ty = _m[7], tz = _m[11];
        r[3] = -(r[0] * tx + r[1] * ty + r[2] * tz);
        r[7] = -(r[4] * tx + r[5] * ty + r[6] * tz);
        r[11] = -(r[8] * tx + r[9] * ty + r[10] * tz);
        r[15] = 1;
        return new Affine(r);
    }

    public double MaxAbsDifference(Affine other)
    {
        double m = 0;
        for (int k = 0; k < 16; k++) m = Math.Max(m, Math.Abs(_m[k] - other._m[k]));
        return m;
    }

    public bool Equals(Affine? other) => other is not null && _m.AsSpan().SequenceEqual(other._m);
    public override bool Equals(object? obj) => obj is Affine a && Equals(a);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var v in _m) h.Add(v);
        return h.ToHashCode();
    }

    /// <summary>Four lines of four numbers, the layout of an ITK/FSL-style text matrix.</summary>
    public override string ToString()
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                if (j > 0) sb.Append(' ');
                sb.Append(_m[i * 4 + j].ToString("0.######", System.Globalization.CultureInfo.InvariantCulture));
            }
            if (i < 3) sb.Append('\n');
        }
        return sb.ToString();
    }
}
