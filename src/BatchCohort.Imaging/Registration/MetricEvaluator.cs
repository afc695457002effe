using BatchCohort.Imaging.Processing;
using System.Runtime.Intrinsics;
using BatchCohort.Imaging.Processing.Similarity;

namespace BatchCohort.Imaging.Registration;

/// <summary>
/// Cost and analytic gradient of a similarity metric for the 12-parameter affine map, over a fixed set of atlas
/// sample points (world positions relative to the centre c, and atlas intensities) and one moving (subject) pyramid
/// level. Cost = −MI (Mattes, Parzen windows) or −NCC, so lower is better. The chain rule is collapsed into
/// Σ w·g (3 numbers) and Σ w·g·uᵀ (3×3), where w = ∂cost/∂m_i, g the subject's world gradient and u = x − c:
/// ∂cost/∂t = Σ w g and ∂cost/∂p_k = ⟨∂A/∂p_k, Σ w g uᵀ⟩. Samples that map outside the subject grid are left out.
/// </summary>
internal sealed class MetricEvaluator
{
    private readonly float[] _ux, _uy, _uz, _f;
    private readonly int[] _fbin;
    private readonly PyramidLevel _moving;
    private readonly RegistrationMetric _metric;
    private readonly int _bins;
    private readonly MattesMutualInformation? _mattes;
    private readonly (double X, double Y, double Z) _centre;
    private readonly int _chunks;
    // per-sample scratch (moving value + world gradient), written by pass 1, read by pass 2
    private readonly float[] _m, _gx, _gy, _gz;
    private readonly bool[] _inside;

    public MetricEvaluator(RegistrationSamples samples, PyramidLevel moving, RegistrationMetric metric, int bins,
        (double Lo, double Hi) movingRange, (double X, double Y, double Z) centre)
    {
        _ux = samples.Ux; _uy = samples.Uy; _uz = samples.Uz; _f = samples.Values;
        _moving = moving;
        _metric = metric;
        _bins = bins;
        _centre = centre;
        int n = _f.Length;
        _m = new float[n]; _gx = new float[n]; _gy = new float[n]; _gz = new float[n];
        _inside = new bool[n];
        _chunks = Math.Max(1, Math.Min(4 * Parallelism.Degree, n / 2048));
        _fbin = new int[n];
        if (metric == RegistrationMetric.MattesMutualInformation)
        {
            _mattes = new MattesMutualInformation(bins, samples.Range.Lo, samples.Range.Hi, movingRange.Lo, movingRange.Hi);
            for (int i = 0; i < n; i++) _fbin[i] = _mattes.FixedBin(_f[i]);
        }
    }

    public int SampleCount => _f.Length;

    public sealed record Result(double Cost, double[] Gradient, double InsideFraction, double Similarity);

    public Result Evaluate(double[] a0, (double X, double Y, double Z) t0, double[] p, bool gradient)
    {
        var a = AffineParameters.Linear(a0, p);
        double s = _moving.SpacingMm;
        var o = _moving.Origin;
        // voxel position v = (A·u + c + t0 + t − origin) / s
        var m = new float[9];
        for (int i = 0; i < 9; i++) m[i] = (float)(a[i] / s);
        double qx = (_centre.X + t0.X + p[0] - o.X) / s, qy = (_centre.Y + t0.Y + p[1] - o.Y) / s, qz = (_centre.Z + t0.Z + p[2] - o.Z) / s;
        int n = _f.Length;
        int chunk = (n + _chunks - 1) / _chunks;
        var shape = _moving.Shape;
        var packed = _moving.Packed;

        // pass 1: sample the subject at every mapped atlas point; local statistics per chunk
        int B = _bins;
        var partial = new ChunkStats[_chunks];
        Parallelism.For(0, _chunks, c =>
        {
            int lo = c * chunk, hi = Math.Min(n, lo + chunk);
            var st = new ChunkStats(_metric == RegistrationMetric.MattesMutualInformation ? B * B : 0);
            for (int i = lo; i < hi; i++)
            {
                float ux = _ux[i], uy = _uy[i], uz = _uz[i];
                double vx = m[0] * ux + m[1] * uy + m[2] * uz + qx;
                double vy = m[3] * ux + m[4] * uy + m[5] * uz + qy;
                double vz = m[6] * ux + m[7] * uy + m[8] * uz + qz;
                if (!Trilinear(packed, shape.X, shape.Y, shape.Z, vx, vy, vz, out var val))
                {
                    _inside[i] = false;
                    continue;
                }
                _inside[i] = true;
                float mv = val.GetElement(0);
                _m[i] = mv; _gx[i] = val.GetElement(1); _gy[i] = val.GetElement(2); _gz[i] = val.GetElement(3);
                st.N++;
                if (_mattes is not null)
                {
                    int row = _fbin[i] * B;
                    int k = _mattes.MovingWindow(mv, out var w0, out var w1, out var w2, out var w3);
                    st.Joint![row + k] += w0; st.Joint[row + k + 1] += w1; st.Joint[row + k + 2] += w2; st.Joint[row + k + 3] += w3;
                }
                else
                {
                    double f = _f[i];
                    st.Sf += f; st.Sm += mv; st.Sff += f * f; st.Smm += (double)mv * mv; st.Sfm += f * mv;
                }
            }
            partial[c] = st;
        });
        var tot = new ChunkStats(_mattes is not null ? B * B : 0);
        foreach (var st in partial) tot.Add(st);
        double inside = (double)tot.N / n;
        if (tot.N < 16) return new Result(0, new double[AffineParameters.Count], inside, 0);

        double similarity;
        double[]? dmTable = null; // for MI: per (fixed bin, moving bin) log(p/pm)
        double nccA = 0, nccB = 0, mf = 0, mm = 0;
        if (_mattes is not null)
        {
            similarity = _mattes.FromJoint(tot.Joint!, tot.N);
            if (gradient)
            {
                var pm = new double[B];
                for (int i = 0; i < B; i++) for (int k = 0; k < B; k++) pm[k] += tot.Joint![i * B + k];
                dmTable = new double[B * B];
                for (int i = 0; i < B; i++)
                    for (int k = 0; k < B; k++)
                    {
                        double pj = tot.Joint![i * B + k];
                        dmTable[i * B + k] = pj > 0 && pm[k] > 0 ? Math.Log(pj / pm[k]) : 0;
                    }
            }
        }
        else
        {
            double N = tot.N;
            mf = tot.Sf / N; mm = tot.Sm / N;
            double sff = tot.Sff - N * mf * mf, smm = tot.Smm - N * mm * mm, sfm = tot.Sfm - N * mf * mm;
            if (sff <= 0 || smm <= 0) return new Result(0, new double[AffineParameters.Count], inside, 0);
            similarity = sfm / Math.Sqrt(sff * smm);
            nccA = 1 / Math.Sqrt(sff * smm);
            nccB = similarity / smm;
        }
        var grad = new double[AffineParameters.Count];
        if (!gradient) return new Result(-similarity, grad, inside, similarity);

        // pass 2: w_i = ∂cost/∂m_i; accumulate Σ w g and Σ w g uᵀ
        var acc = new double[_chunks][];
        double invNw = _mattes is not null ? 1.0 / (tot.N * _mattes.MovingBinWidth) : 0;
        Parallelism.For(0, _chunks, c =>
        {
            int lo = c * chunk, hi = Math.Min(n, lo + chunk);
            var g = new double[12]; // 0..2: Σ w g; 3..11: Σ w g uᵀ row-major
            for (int i = lo; i < hi; i++)
            {
                if (!_inside[i]) continue;
                double w;
                if (_mattes is not null)
                {
                    int k = _mattes.MovingWindow(_m[i], out _, out _, out _, out _);
                    double eta = (_m[i] - _mattes.MovingMin) / _mattes.MovingBinWidth + MattesMutualInformation.Padding;
                    double u = eta - (k + 1);
                    if (u < 0 || u > 1) continue; // clamped into an end bin: flat
                    int row = _fbin[i] * B + k;
                    // β3′ at (k−1+j) − η for j = 0..3
                    double d0 = 0.5 * (1 - u) * (1 - u), d1 = 2 * u - 1.5 * u * u, d2 = -2 * (1 - u) + 1.5 * (1 - u) * (1 - u), d3 = -0.5 * u * u;
                    double dmi = -(dmTable![row] * d0 + dmTable[row + 1] * d1 + dmTable[row + 2] * d2 + dmTable[row + 3] * d3) * invNw;
                    w = -dmi;
                }
                else
                {
                    double dncc = (_f[i] - mf) * nccA - (_m[i] - mm) * nccB;
                    w = -dncc;
                }
                double wx = w * _gx[i], wy = w * _gy[i], wz = w * _gz[i];
                double ux = _ux[i], uy = _uy[i], uz = _uz[i];
                g[0] += wx; g[1] += wy; g[2] += wz;
                g[3] += wx * ux; g[4] += wx * uy; g[5] += wx * uz;
                g[6] += wy * ux; g[7] += wy * uy; g[8] += wy * uz;
                g[9] += wz * ux; g[10] += wz * uy; g[11] += wz * uz;
            }
            acc[c] = g;
        });
        var G = new double[12];
        foreach (var g in acc) for (int k = 0; k < 12; k++) G[k] += g[k];
        grad[0] = G[0]; grad[1] = G[1]; grad[2] = G[2];
        var dA = AffineParameters.LinearDerivatives(a0, p);
        for (int k = 3; k < AffineParameters.Count; k++)
        {
            double sum = 0;
            for (int e = 0; e < 9; e++) sum += dA[k][e] * G[3 + e];
            grad[k] = sum;
        }
        return new Result(-similarity, grad, inside, similarity);
    }

    /// <summary>
    /// Σ z zᵀ over the samples inside, with z = (g, vec(g uᵀ)) ∈ ℝ¹²: with ∂A/∂p this gives the Gauss–Newton (Fisher)
    /// matrix Σ J Jᵀ of the parameters, whose inverse square root whitens them for the descent.
    /// </summary>
    public double[,] GradientMoments(double[] a0, (double X, double Y, double Z) t0, double[] p)
    {
        var a = AffineParameters.Linear(a0, p);
        double s = _moving.SpacingMm;
        var o = _moving.Origin;
        double qx = (_centre.X + t0.X + p[0] - o.X) / s, qy = (_centre.Y + t0.Y + p[1] - o.Y) / s, qz = (_centre.Z + t0.Z + p[2] - o.Z) / s;
        var shape = _moving.Shape;
        int n = _f.Length;
        int chunk = (n + _chunks - 1) / _chunks;
        var parts = new double[_chunks][];
        Parallelism.For(0, _chunks, c =>
        {
            var acc = new double[144];
            var z = new double[12];
            int lo = c * chunk, hi = Math.Min(n, lo + chunk);
            for (int i = lo; i < hi; i++)
            {
                double ux = _ux[i], uy = _uy[i], uz = _uz[i];
                double vx = (a[0] * ux + a[1] * uy + a[2] * uz) / s + qx;
                double vy = (a[3] * ux + a[4] * uy + a[5] * uz) / s + qy;
                double vz = (a[6] * ux + a[7] * uy + a[8] * uz) / s + qz;
                if (!Trilinear(_moving.Packed, shape.X, shape.Y, shape.Z, vx, vy, vz, out var val)) continue;
                double gx = val.GetElement(1), gy = val.GetElement(2), gz = val.GetElement(3);
                z[0] = gx; z[1] = gy; z[2] = gz;
                z[3] = gx * ux; z[4] = gx * uy; z[5] = gx * uz;
                z[6] = gy * ux; z[7] = gy * uy; z[8] = gy * uz;
                z[9] = gz * ux; z[10] = gz * uy; z[11] = gz * uz;
                for (int r = 0; r < 12; r++)
                {
                    double zr = z[r];
                    for (int q = r; q < 12; q++) acc[r * 12 + q] += zr * z[q];
                }
            }
            parts[c] = acc;
        });
        var m = new double[12, 12];
        foreach (var acc in parts)
            for (int r = 0; r < 12; r++)
                for (int q = r; q < 12; q++) { m[r, q] += acc[r * 12 + q]; }
        for (int r = 0; r < 12; r++) for (int q = 0; q < r; q++) m[r, q] = m[q, r];
        return m;
    }

    private static unsafe bool Trilinear(float[] packed, int X, int Y, int Z, double vx, double vy, double vz, out Vector128<float> value)
    {
        value = default;
        if (!(vx >= 0 && vy >= 0 && vz >= 0 && vx <= X - 1 && vy <= Y - 1 && vz <= Z - 1)) return false;
        int ix = Math.Min((int)vx, X - 2), iy = Math.Min((int)vy, Y - 2), iz = Math.Min((int)vz, Z - 2);
        float fx = (float)(vx - ix), fy = (float)(vy - iy), fz = (float)(vz - iz);
        long sy = 4L * X, sz = 4L * X * Y;
        fixed (float* b = packed)
        {
            float* p = b + 4L * ix + sy * iy + sz * iz;
            var c000 = Vector128.Load(p); var c100 = Vector128.Load(p + 4);
            var c010 = Vector128.Load(p + sy); var c110 = Vector128.Load(p + sy + 4);
            var c001 = Vector128.Load(p + sz); var c101 = Vector128.Load(p + sz + 4);
            var c011 = Vector128.Load(p + sz + sy); var c111 = Vector128.Load(p + sz + sy + 4);
            var x00 = c000 + (c100 - c000) * fx;
            var x10 = c010 + (c110 - c010) * fx;
            var x01 = c001 + (c101 - c001) * fx;
            var x11 = c011 + (c111 - c011) * fx;
            var y0 = x00 + (x10 - x00) * fy;
            var y1 = x01 + (x11 - x01) * fy;
            value = y0 + (y1 - y0) * fz;
        }
        return true;
    }

    private sealed class ChunkStats
    {
        public ChunkStats(int joint) { Joint = joint > 0 ? new double[joint] : null; }
        public double[]? Joint;
        public long N;
        public double Sf, Sm, Sff, Smm, Sfm;

        public void Add(ChunkStats o)
        {
            N += o.N; Sf += o.Sf; Sm += o.Sm; Sff += o.Sff; Smm += o.Smm; Sfm += o.Sfm;
            if (Joint is not null) for (int i = 0; i < Joint.Length; i++) Joint[i] += o.Joint![i];
        }
    }
}

/// <summary>Atlas sample points of one level: positions relative to the centre (mm) and intensities.</summary>
internal sealed record RegistrationSamples(float[] Ux, float[] Uy, float[] Uz, float[] Values, (double Lo, double Hi) Range);
