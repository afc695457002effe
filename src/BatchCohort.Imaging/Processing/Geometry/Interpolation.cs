using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Geometry;

/// <summary>
/// scipy.ndimage interpolation in 3-D: <see cref="AffineTransform(float[], Shape3, double[,], double[], Shape3?, int, BoundaryMode, float, bool)"/>,
/// <see cref="Shift(float[], Shape3, double, double, double, int, BoundaryMode, float, bool)"/>, <see cref="Zoom(float[], Shape3, double, double, double, out Shape3, int, BoundaryMode, float, bool)"/>
/// and <see cref="Rotate(float[], Shape3, double, int, int, int, BoundaryMode, float, bool)"/>, with spline orders 0, 1 and 3 and
/// scipy's boundary modes. Axes are numbered as numpy sees our x-fastest arrays: 0 = x, 1 = y, 2 = z.
/// Array functions follow scipy exactly; the <see cref="Volume"/> overloads carry the header over (shift, rotate,
/// affine_transform: content moves within the same grid) or update it (zoom: same world extent, new voxel size).
/// For world-space (mm) resampling onto another grid use <see cref="Resample"/>.
/// Differences from scipy 1.10 (deliberate): zoom's last sample is computed as o·(n−1)/(m−1), which lands exactly on
/// the last input voxel (scipy's o·((n−1)/(m−1)) can overshoot by one ulp and return cval there); order must be
/// 0, 1 or 3; work runs in parallel over output slices with float32 coefficients (differences ≤ 1e-5 of the range).
/// </summary>
public static class Interpolation
{
    /// <summary>
    /// affine_transform: output[o] = input sampled at matrix·o + offset (pull/backward mapping, voxel units).
    /// </summary>
    public static float[] AffineTransform(float[] input, Shape3 inputShape, double[,] matrix, double[] offset,
        Shape3? outputShape = null, int order = 3, BoundaryMode mode = BoundaryMode.Constant, float cval = 0f, bool prefilter = true)
    {
        var outShape = outputShape ?? inputShape;
        GeometryChecks.OutputShape(outShape, nameof(outputShape));
        var output = new float[outShape.Count];
        AffineTransform(input, inputShape, matrix, offset, output, outShape, order, mode, cval, prefilter);
        return output;
    }

    /// <summary>affine_transform into a caller-provided output array (no allocation besides the prefilter's coefficients).</summary>
    public static void AffineTransform(float[] input, Shape3 inputShape, double[,] matrix, double[] offset,
        float[] output, Shape3 outputShape, int order = 3, BoundaryMode mode = BoundaryMode.Constant, float cval = 0f, bool prefilter = true)
    {
        GeometryChecks.Data(input, inputShape, nameof(input));
        var m = CheckMatrix(matrix, nameof(matrix));
        var off = CheckOffset(offset, nameof(offset));
        GeometryChecks.Order(order);
        CheckMode(mode);
        ArgumentNullException.ThrowIfNull(output);
        GeometryChecks.OutputShape(outputShape, nameof(outputShape));
        if (output.LongLength != outputShape.Count)
            throw new ArgumentException($"output has {output.LongLength} values but output shape {outputShape} needs {outputShape.Count}", nameof(output));
        Run(input, inputShape, m, off, output, outputShape, order, mode, cval, prefilter);
    }

    /// <summary>affine_transform on a volume with a homogeneous 4×4 index map (output voxel → input voxel). The output keeps the input's header.</summary>
    public static Volume AffineTransform(Volume input, Affine indexMap, Shape3? outputShape = null, int order = 3,
        BoundaryMode mode = BoundaryMode.Constant, float cval = 0f, bool prefilter = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(indexMap);
        var (m, off) = Split(indexMap);
        var shape = outputShape ?? input.Shape;
        var data = AffineTransform(input.Data, input.Shape, m, off, shape, order, mode, cval, prefilter);
        return new Volume(shape, data, input.Affine, input.Spacing);
    }

    /// <summary>shift: output[o] = input[o − shift] (shift in voxels per axis).</summary>
    public static float[] Shift(float[] input, Shape3 shape, double shiftX, double shiftY, double shiftZ, int order = 3,
        BoundaryMode mode = BoundaryMode.Constant, float cval = 0f, bool prefilter = true)
    {
        GeometryChecks.FiniteValue(shiftX, nameof(shiftX));
        GeometryChecks.FiniteValue(shiftY, nameof(shiftY));
        GeometryChecks.FiniteValue(shiftZ, nameof(shiftZ));
        var m = new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        return AffineTransform(input, shape, m, new[] { -shiftX, -shiftY, -shiftZ }, shape, order, mode, cval, prefilter);
    }

    /// <summary>shift on a volume; the header is kept, so the content moves in world space by shift × spacing along the voxel axes.</summary>
    public static Volume Shift(Volume input, double shiftX, double shiftY, double shiftZ, int order = 3,
        BoundaryMode mode = BoundaryMode.Constant, float cval = 0f, bool prefilter = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.WithData(Shift(input.Data, input.Shape, shiftX, shiftY, shiftZ, order, mode, cval, prefilter));
    }

    /// <summary>
    /// zoom (grid_mode=False): output shape round(n·zoom) per axis (round half to even, as Python's round), output
    /// voxel o samples input position o·(n−1)/(m−1) (0 when m = 1).
    /// </summary>
    public static float[] Zoom(float[] input, Shape3 shape, double zoomX, double zoomY, double zoomZ, out Shape3 outputShape,
        int order = 3, BoundaryMode mode = BoundaryMode.Constant, float cval = 0f, bool prefilter = true)
    {
        outputShape = ZoomShape(shape, zoomX, zoomY, zoomZ);
        GeometryChecks.Data(input, shape, nameof(input));
        GeometryChecks.Order(order);
        CheckMode(mode);
        var output = new float[outputShape.Count];
        var f = ZoomFactors(shape, outputShape);
        // o·(n−1)/(m−1): exact at both ends; fed to the sampler as a diagonal map with per-axis step
        var m = new[] { f[0], 0, 0, 0, f[1], 0, 0, 0, f[2] };
        Run(input, shape, m, new double[3], output, outputShape, order, mode, cval, prefilter, zoomEndpoints: true);
        return output;
    }

    /// <summary>zoom on a volume: the output covers the same world extent (first and last voxel centres unchanged), with new spacing.</summary>
    public static Volume Zoom(Volume input, double zoomX, double zoomY, double zoomZ, int order = 3,
        BoundaryMode mode = BoundaryMode.Constant, float cval = 0f, bool prefilter = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        var data = Zoom(input.Data, input.Shape, zoomX, zoomY, zoomZ, out var outShape, order, mode, cval, prefilter);
        var f = ZoomFactors(input.Shape, outShape);
        var aff = input.Affine * Affine.FromSpacing(f[0], f[1], f[2]);
        var sp = new Spacing3(input.Spacing.X * f[0], input.Spacing.Y * f[1], input.Spacing.Z * f[2]);
        if (!(sp.X > 0) || !(sp.Y > 0) || !(sp.Z > 0))
            sp = new Spacing3(sp.X > 0 ? sp.X : input.Spacing.X, sp.Y > 0 ? sp.Y : input.Spacing.Y, sp.Z > 0 ? sp.Z : input.Spacing.Z);
        return new Volume(outShape, data, aff, sp);
    }

    /// <summary>
    /// rotate(reshape=False): rotates by <paramref name="angleDegrees"/> in the plane of two axes about the array centre,
    /// exactly as scipy (axes are sorted; default (1, 0) is the x–y plane). The other axis is not interpolated.
    /// </summary>
    public static float[] Rotate(float[] input, Shape3 shape, double angleDegrees, int axisA = 1, int axisB = 0, int order = 3,
        BoundaryMode mode = BoundaryMode.Constant, float cval = 0f, bool prefilter = true)
    {
        GeometryChecks.FiniteValue(angleDegrees, nameof(angleDegrees));
        if (axisA is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(axisA), axisA, "axis must be 0 (x), 1 (y) or 2 (z)");
        if (axisB is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(axisB), axisB, "axis must be 0 (x), 1 (y) or 2 (z)");
        if (axisA == axisB) throw new ArgumentException($"the two rotation axes must differ, got ({axisA}, {axisB})", nameof(axisB));
        int a0 = Math.Min(axisA, axisB), a1 = Math.Max(axisA, axisB);
        var (c, s) = CosSinDegrees(angleDegrees);
        double ca = (shape[a0] - 1) / 2.0, cb = (shape[a1] - 1) / 2.0;
        // in = R·out + (in_centre − R·out_centre), R = [[c, s], [−s, c]] on (a0, a1)
        double oa = ca - (c * ca + s * cb);
        double ob = cb - (-s * ca + c * cb);
        var m = new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        var off = new double[3];
        m[a0, a0] = c; m[a0, a1] = s; m[a1, a0] = -s; m[a1, a1] = c;
        off[a0] = oa; off[a1] = ob;
        return AffineTransform(input, shape, m, off, shape, order, mode, cval, prefilter);
    }

    /// <summary>rotate on a volume (reshape=False); the header is kept.</summary>
    public static Volume Rotate(Volume input, double angleDegrees, int axisA = 1, int axisB = 0, int order = 3,
        BoundaryMode mode = BoundaryMode.Constant, float cval = 0f, bool prefilter = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.WithData(Rotate(input.Data, input.Shape, angleDegrees, axisA, axisB, order, mode, cval, prefilter));
    }

    /// <summary>cos and sin of an angle in degrees, exact at multiples of 90° (scipy.special.cosdg/sindg).</summary>
    internal static (double Cos, double Sin) CosSinDegrees(double deg)
    {
        double r = Math.IEEERemainder(deg, 360.0); // (−180, 180]
        int q = (int)Math.Round(r / 90.0);          // nearest quadrant
        double rem = (r - q * 90.0) * (Math.PI / 180.0); // |rem| ≤ 45°
        double c = Math.Cos(rem), s = Math.Sin(rem);
        return (((q % 4) + 4) % 4) switch
        {
            0 => (c, s),
            1 => (-s, c),
            2 => (-c, -s),
            _ => (s, -c),
        };
    }

    internal static Shape3 ZoomShape(Shape3 shape, double zx, double zy, double zz)
    {
        shape.Validate(nameof(shape));
        int Dim(double z, int n, string name)
        {
            if (!double.IsFinite(z) || z <= 0) throw new ArgumentException($"zoom factor must be positive and finite, got {z}", name);
            double m = Math.Round(n * z, MidpointRounding.ToEven);
            if (m < 1) throw new ArgumentException($"zoom factor {z} shrinks an axis of {n} voxels to nothing", name);
            if (m > Array.MaxLength) throw new ArgumentException($"zoom factor {z} makes an axis of {m} voxels", name);
            return (int)m;
        }
        var s = new Shape3(Dim(zx, shape.X, "zoomX"), Dim(zy, shape.Y, "zoomY"), Dim(zz, shape.Z, "zoomZ"));
        GeometryChecks.OutputShape(s, "zoom");
        return s;
    }

    private static double[] ZoomFactors(Shape3 input, Shape3 output)
    {
        var f = new double[3];
        for (int a = 0; a < 3; a++) f[a] = output[a] > 1 ? (input[a] - 1) / (double)(output[a] - 1) : 1.0;
        return f;
    }

    internal static (double[,] M, double[] Offset) Split(Affine a)
    {
        if (Math.Abs(a[3, 0]) > 0 || Math.Abs(a[3, 1]) > 0 || Math.Abs(a[3, 2]) > 0 || a[3, 3] != 1)
            throw new ArgumentException("index map must be affine (last row 0 0 0 1)", nameof(a));
        return (a.Linear, new[] { a[0, 3], a[1, 3], a[2, 3] });
    }

    private static double[] CheckMatrix(double[,] matrix, string name)
    {
        ArgumentNullException.ThrowIfNull(matrix, name);
        if (matrix.GetLength(0) != 3 || matrix.GetLength(1) != 3)
            throw new ArgumentException($"matrix must be 3×3, got {matrix.GetLength(0)}×{matrix.GetLength(1)}", name);
        var m = new double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                double v = matrix[i, j];
                if (!double.IsFinite(v)) throw new ArgumentException($"matrix[{i},{j}] is {v}; the matrix must be finite", name);
                m[i * 3 + j] = v;
            }
        double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
        double scale = 1;
        for (int i = 0; i < 3; i++) scale *= Math.Sqrt(m[i * 3] * m[i * 3] + m[i * 3 + 1] * m[i * 3 + 1] + m[i * 3 + 2] * m[i * 3 + 2]);
        if (scale == 0 || Math.Abs(det) <= 1e-12 * scale)
            throw new ArgumentException($"matrix is singular (determinant {det:G3}); it would collapse the image onto a plane or line", name);
        return m;
    }

    private static double[] CheckOffset(double[] offset, string name)
    {
        ArgumentNullException.ThrowIfNull(offset, name);
        if (offset.Length != 3) throw new ArgumentException($"offset must have 3 values (x, y, z), got {offset.Length}", name);
        foreach (var v in offset) if (!double.IsFinite(v)) throw new ArgumentException($"offset contains {v}; it must be finite", name);
        return (double[])offset.Clone();
    }

    /// <summary>
    /// Interpolation supports scipy's 'constant', 'nearest', 'mirror' and 'reflect' (same meanings as in scipy's
    /// map_coordinates: 'constant' gives cval outside [0, n−1] and mirror-extends the spline inside; 'nearest' pads by 12
    /// edge values before the prefilter, as scipy ≥ 1.6). 'wrap' is refused: scipy's interpolation 'wrap' is periodic
    /// with period n−1, unlike the filters' 'wrap', and nothing here needs it.
    /// </summary>
    internal static void CheckMode(BoundaryMode mode)
    {
        if (mode is not (BoundaryMode.Constant or BoundaryMode.Nearest or BoundaryMode.Mirror or BoundaryMode.Reflect))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "interpolation supports the Constant, Nearest, Mirror and Reflect boundary modes");
    }

    /// <summary>An axis sampled only at integer positions: its matrix row is the unit vector and its offset an integer.</summary>
    private static bool IsExactAxis(double[] m, double[] off, int k, Shape3 inShape, Shape3 outShape)
    {
        for (int j = 0; j < 3; j++) if (m[k * 3 + j] != (j == k ? 1.0 : 0.0)) return false;
        return off[k] == Math.Round(off[k]) && Math.Abs(off[k]) < int.MaxValue / 2;
    }

    private static void Run(float[] input, Shape3 inShape, double[] m, double[] off, float[] output, Shape3 outShape,
        int order, BoundaryMode mode, float cval, bool prefilter, bool zoomEndpoints = false)
    {
        bool ex = IsExactAxis(m, off, 0, inShape, outShape);
        bool ey = IsExactAxis(m, off, 1, inShape, outShape);
        bool ez = IsExactAxis(m, off, 2, inShape, outShape);
        var sampler = SplineSampler.Create(input, inShape, order, mode, cval, prefilter, ex, ey, ez);
        int X = outShape.X, Y = outShape.Y;
        if (zoomEndpoints)
        {
            // diagonal map with coordinates o·(n−1)/(m−1), computed as an exact integer product then one division
            var tables = new double[3][];
            for (int a = 0; a < 3; a++)
            {
                int mo = outShape[a], ni = inShape[a];
                var t = tables[a] = new double[mo];
                for (int o = 0; o < mo; o++) t[o] = mo > 1 ? (double)o * (ni - 1) / (mo - 1) : 0.0;
            }
            Parallelism.For(0, outShape.Z, z =>
            {
                for (int y = 0; y < Y; y++)
                {
                    var row = output.AsSpan((int)((long)X * (y + (long)Y * z)), X);
                    for (int x = 0; x < X; x++) row[x] = sampler.Sample(tables[0][x], tables[1][y], tables[2][z]);
                }
            });
            return;
        }
        Parallelism.For(0, outShape.Z, z =>
        {
            for (int y = 0; y < Y; y++)
                sampler.SampleRow(m, off, y, z, output.AsSpan((int)((long)X * (y + (long)Y * z)), X));
        });
    }
}
