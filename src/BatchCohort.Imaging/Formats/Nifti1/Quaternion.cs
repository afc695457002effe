using MathNet.Numerics.LinearAlgebra;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Formats.Nifti1;

/// <summary>
/// The NIfTI-1 qform: a rotation stored as the (b, c, d) part of a unit quaternion with a ≥ 0, voxel sizes
/// pixdim[1..3], qfac = pixdim[0] (±1, the handedness) and an offset. Formulas from the NIfTI-1 standard
/// (nifti1.h, "METHOD 2"), with the same tolerances nibabel uses.
/// </summary>
public static class Quaternion
{
    /// <summary>
    /// Affine of a qform. <paramref name="threshold"/> is how negative 1 − (b² + c² + d²) may be (rounding) before
    /// the quaternion is rejected: −3·eps(float32) for NIfTI-1, −3·eps(float64) for NIfTI-2 (nibabel's values).
    /// </summary>
    public static Affine ToAffine(double b, double c, double d, double qfac, double dx, double dy, double dz,
        double ox, double oy, double oz, double threshold, string path)
    {
        double w2 = 1.0 - (b * b + c * c + d * d);
        double a;
        if (w2 < 0)
        {
            if (w2 < threshold)
                throw new ImageFormatException(path, $"qform quaternion (b, c, d) = ({b}, {c}, {d}) has norm greater than 1");
            a = 0;
        }
        else a = Math.Sqrt(w2);
        var r = ToRotation(a, b, c, d);
        double q = qfac == -1 ? -1 : 1;
        var zooms = new[] { dx, dy, dz * q };
        var m = new double[16];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                m[i * 4 + j] = r[i, j] * zooms[j];
        m[3] = ox; m[7] = oy; m[11] = oz; m[15] = 1;
        return new Affine(m);
    }

    /// <summary>Rotation matrix of a quaternion (w, x, y, z), normalised as nibabel's quat2mat.</summary>
    public static double[,] ToRotation(double w, double x, double y, double z)
    {
        double nq = w * w + x * x + y * y + z * z;
        if (nq < 2.220446049250313e-16) return new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        double s = 2.0 / nq;
        double X = x * s, Y = y * s, Z = z * s;
        double wX = w * X, wY = w * Y, wZ = w * Z;
        double xX = x * X, xY = x * Y, xZ = x * Z;
        double yY = y * Y, yZ = y * Z, zZ = z * Z;
        return new[,]
        {
            { 1.0 - (yY + zZ), xY - wZ, xZ + wY },
            { xY + wZ, 1.0 - (xX + zZ), yZ - wX },
            { xZ - wY, yZ + wX, 1.0 - (xX + yY) },
        };
    }

    /// <summary>
    /// Decomposes an affine into qform parameters: voxel sizes (column norms), qfac (−1 when the linear part has a
    /// negative determinant, the third column then flipped), the nearest rotation (polar decomposition, dropping
    /// shears as nibabel's set_qform does) as a quaternion with a ≥ 0, and the offset.
    /// </summary>
    public static (double B, double C, double D, double Qfac, double[] Zooms, double[] Offset) FromAffine(Affine affine)
    {
        var z = affine.Zooms;
        var zooms = new[] { z.X, z.Y, z.Z };
        var rs = Matrix<double>.Build.DenseOfArray(affine.UnitColumns(identityForZeroColumns: true));
        for (int j = 0; j < 3; j++) if (zooms[j] == 0) zooms[j] = 1;
        double qfac = 1;
        if (rs.Determinant() < 0)
        {
            qfac = -1;
            for (int i = 0; i < 3; i++) rs[i, 2] = -rs[i, 2];
        }
        var svd = rs.Svd(true);
        var r = svd.U * svd.VT;
        var (w, x, y, zq) = FromRotation(r);
        if (w < 0) { x = -x; y = -y; zq = -zq; }
        var t = affine.Translation;
        return (x, y, zq, qfac, zooms, new[] { t.X, t.Y, t.Z });
    }

    private static (double W, double X, double Y, double Z) FromRotation(Matrix<double> m)
    {
        // Shepperd's method: pick the largest of the four candidates for numerical stability.
        double m00 = m[0, 0], m11 = m[1, 1], m22 = m[2, 2];
        double tr = m00 + m11 + m22;
        double w, x, y, z;
        if (tr > 0)
        {
            double s = Math.Sqrt(tr + 1.0) * 2;
            w = 0.25 * s; x = (m[2, 1] - m[1, 2]) / s; y = (m[0, 2] - m[2, 0]) / s; z = (m[1, 0] - m[0, 1]) / s;
        }
        else if (m00 > m11 && m00 > m22)
        {
            double s = Math.Sqrt(1.0 + m00 - m11 - m22) * 2;
            w = (m[2, 1] - m[1, 2]) / s; x = 0.25 * s; y = (m[0, 1] + m[1, 0]) / s; z = (m[0, 2] + m[2, 0]) / s;
        }
        else if (m11 > m22)
        {
            double s = Math.Sqrt(1.0 + m11 - m00 - m22) * 2;
            w = (m[0, 2] - m[2, 0]) / s; x = (m[0, 1] + m[1, 0]) / s; y = 0.25 * s; z = (m[1, 2] + m[2, 1]) / s;
        }
        else
        {
            double s = Math.Sqrt(1.0 + m22 - m00 - m11) * 2;
            w = (m[1, 0] - m[0, 1]) / s; x = (m[0, 2] + m[2, 0]) / s; y = (m[1, 2] + m[2, 1]) / s; z = 0.25 * s;
        }
        double n = Math.Sqrt(w * w + x * x + y * y + z * z);
        return (w / n, x / n, y / n, z / n);
    }
}
