using BatchCohort.Imaging.Processing;
namespace BatchCohort.Neuro.Synthesis;

/// <summary>
/// A smooth random function on the unit sphere (a sum of random plane waves restricted to the sphere, unit variance)
/// tabulated on a latitude–longitude grid as a <em>signed angular distance</em> to its zero set: n(u)/|∇ₜn(u)|
/// (radians, first-order distance). Its zero lines are curvy, branching, roughly evenly spaced — the layout of
/// sulcal fundi on a cortex. Lookups are bilinear in (θ, φ).
/// </summary>
internal sealed class SphericalField
{
    private readonly float[] _table; // [it * nPhi + ip]
    private readonly int _nTheta, _nPhi;
    private readonly double _dTheta, _dPhi;

    /// <param name="seed">fixes the pattern.</param>
    /// <param name="waves">number of plane waves.</param>
    /// <param name="frequency">wave-vector length range, cycles per unit length on the unit sphere; the zero lines are
    /// about 1/(2·frequency) apart in radians.</param>
    /// <param name="stepDegrees">table resolution.</param>
    public SphericalField(ulong seed, int waves, double freqLo, double freqHi, double stepDegrees = 0.5)
    {
        var rng = new DeterministicRandom(seed);
        var k = new (double X, double Y, double Z)[waves];
        var phase = new double[waves];
        double amp = Math.Sqrt(2.0 / waves);
        for (int i = 0; i < waves; i++)
        {
            // isotropic direction
            double z = rng.Uniform(-1, 1), a = rng.Uniform(0, 2 * Math.PI), r = Math.Sqrt(1 - z * z);
            double f = rng.Uniform(freqLo, freqHi) * 2 * Math.PI;
            k[i] = (f * r * Math.Cos(a), f * r * Math.Sin(a), f * z);
            phase[i] = rng.Uniform(0, 2 * Math.PI);
        }
        _nTheta = (int)Math.Round(180.0 / stepDegrees) + 1;
        _nPhi = (int)Math.Round(360.0 / stepDegrees);
        _dTheta = Math.PI / (_nTheta - 1);
        _dPhi = 2 * Math.PI / _nPhi;
        _table = new float[_nTheta * _nPhi];
        var tbl = _table;
        int nPhi = _nPhi;
        double dT = _dTheta, dP = _dPhi;
        Parallelism.For(0, _nTheta, it =>
        {
            double th = it * dT;
            var (st, ct) = Math.SinCos(th);
            for (int ip = 0; ip < nPhi; ip++)
            {
                var (sp, cp) = Math.SinCos(ip * dP - Math.PI);
                double ux = st * cp, uy = st * sp, uz = ct;
                double n = 0, gx = 0, gy = 0, gz = 0;
                for (int w = 0; w < k.Length; w++)
                {
                    var (s, c) = Math.SinCos(k[w].X * ux + k[w].Y * uy + k[w].Z * uz + phase[w]);
                    n += amp * c;
                    gx -= amp * s * k[w].X;
                    gy -= amp * s * k[w].Y;
                    gz -= amp * s * k[w].Z;
                }
                double dot = gx * ux + gy * uy + gz * uz;
                gx -= dot * ux; gy -= dot * uy; gz -= dot * uz;
                double g = Math.Sqrt(gx * gx + gy * gy + gz * gz);
                tbl[it * nPhi + ip] = (float)(n / Math.Max(g, 0.25));
            }
        });
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(ulong, int, double, double, double), Lazy<SphericalField>> Cache = new();

    /// <summary>The same field as the constructor builds, computed once per process for each parameter set.</summary>
    public static SphericalField Cached(ulong seed, int waves, double freqLo, double freqHi, double stepDegrees) =>
        Cache.GetOrAdd((seed, waves, freqLo, freqHi, stepDegrees),
            k => new Lazy<SphericalField>(() => new SphericalField(k.Item1, k.Item2, k.Item3, k.Item4, k.Item5))).Value;

    /// <summary>Signed angular distance (radians) to the nearest zero line, at unit direction u.</summary>
    public double SignedDistance(double ux, double uy, double uz)
    {
        double th = Math.Acos(Math.Clamp(uz, -1.0, 1.0));
        double ph = Math.Atan2(uy, ux) + Math.PI; // [0, 2π]
        double ft = th / _dTheta, fp = ph / _dPhi;
        int it = Math.Min((int)ft, _nTheta - 2);
        int ip = (int)fp;
        double at = ft - it, ap = fp - ip;
        ip %= _nPhi;
        int ip1 = ip + 1 == _nPhi ? 0 : ip + 1;
        int r0 = it * _nPhi, r1 = r0 + _nPhi;
        double v0 = _table[r0 + ip] + ap * (_table[r0 + ip1] - _table[r0 + ip]);
        double v1 = _table[r1 + ip] + ap * (_table[r1 + ip1] - _table[r1 + ip]);
        return v0 + at * (v1 - v0);
    }
}

/// <summary>
/// The planar counterpart of <see cref="SphericalField"/>: a random wave field on a plane (the medial surface of a
/// hemisphere), tabulated as a signed distance (mm) to its zero lines on a 1 mm grid.
/// </summary>
internal sealed class PlanarField
{
    private readonly float[] _table;
    private readonly int _nu, _nv;
    private readonly double _u0, _v0, _step;

    public PlanarField(ulong seed, int waves, double wavelengthLo, double wavelengthHi, double u0, double u1, double v0, double v1, double step = 1.0)
    {
        var rng = new DeterministicRandom(seed);
        var k = new (double U, double V)[waves];
        var phase = new double[waves];
        double amp = Math.Sqrt(2.0 / waves);
        for (int i = 0; i < waves; i++)
        {
            double a = rng.Uniform(0, 2 * Math.PI);
            double f = 2 * Math.PI / rng.Uniform(wavelengthLo, wavelengthHi);
            k[i] = (f * Math.Cos(a), f * Math.Sin(a));
            phase[i] = rng.Uniform(0, 2 * Math.PI);
        }
        _u0 = u0; _v0 = v0; _step = step;
        _nu = (int)Math.Ceiling((u1 - u0) / step) + 1;
        _nv = (int)Math.Ceiling((v1 - v0) / step) + 1;
        _table = new float[_nu * _nv];
        for (int iv = 0; iv < _nv; iv++)
            for (int iu = 0; iu < _nu; iu++)
            {
                double u = u0 + iu * step, v = v0 + iv * step;
                double n = 0, gu = 0, gv = 0;
                for (int w = 0; w < waves; w++)
                {
                    var (s, c) = Math.SinCos(k[w].U * u + k[w].V * v + phase[w]);
                    n += amp * c;
                    gu -= amp * s * k[w].U;
                    gv -= amp * s * k[w].V;
                }
                double g = Math.Sqrt(gu * gu + gv * gv);
                _table[iv * _nu + iu] = (float)(n / Math.Max(g, 0.25 * 2 * Math.PI / wavelengthHi));
            }
    }

    /// <summary>Signed distance (mm) to the nearest zero line at (u, v); clamped to the table's edge outside it.</summary>
    public double SignedDistance(double u, double v)
    {
        double fu = Math.Clamp((u - _u0) / _step, 0, _nu - 1.000001), fv = Math.Clamp((v - _v0) / _step, 0, _nv - 1.000001);
        int iu = (int)fu, iv = (int)fv;
        double au = fu - iu, av = fv - iv;
        int r0 = iv * _nu + iu, r1 = r0 + _nu;
        double a = _table[r0] + au * (_table[r0 + 1] - _table[r0]);
        double b = _table[r1] + au * (_table[r1 + 1] - _table[r1]);
        return a + av * (b - a);
    }
}
