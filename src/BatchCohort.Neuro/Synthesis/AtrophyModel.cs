using BatchCohort.Imaging.Processing;
using System.Runtime.CompilerServices;
using BatchCohort.Neuro.Atlases;
using BatchCohort.Imaging.Processing.Distance;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Neuro.Synthesis;

/// <summary>
/// Atrophy with known truth: the brain loses tissue from its surfaces — the outer cortex, the sulcal banks and the
/// ventricular walls — and the lost voxels become CSF. Every brain-tissue voxel of the atlas has a depth (its
/// Euclidean distance, mm, to the nearest non-brain voxel: DistanceTransformEdt of the grey ∪ white mask); to reach a
/// target brain volume the K shallowest voxels are relabelled CSF, with the depth perturbed by a smooth random field
/// of ± <see cref="SynthOptions.AtrophyJitterMm"/> mm so some regions thin more than others. Because the relabelling
/// is done on the label map, the subject's truth volumes are counts of that map.
/// </summary>
public sealed class AtrophyModel
{
    /// <summary>Only voxels within this depth (mm) can be removed: enough for well over 20 % loss on a real brain.</summary>
    public const float MaxDepthMm = 6f;

    private static readonly ConditionalWeakTable<Atlas, AtrophyModel> Cache = new();

    private readonly int[] _index;   // candidate voxel indices
    private readonly float[] _depth; // their depths (mm)
    private readonly Atlas _atlas;

    private AtrophyModel(Atlas atlas)
    {
        _atlas = atlas;
        var cls = atlas.TissueClasses;
        var brain = new byte[cls.Length];
        for (int i = 0; i < cls.Length; i++)
            brain[i] = cls[i] is (byte)TissueClass.GreyMatter or (byte)TissueClass.WhiteMatter ? (byte)1 : (byte)0;
        var mask = new Mask(atlas.Head.Shape, brain, atlas.Head.Affine, atlas.Head.Spacing);
        var edt = DistanceTransforms.DistanceTransformEdt(mask).Data;
        int n = 0;
        for (int i = 0; i < edt.Length; i++) if (brain[i] != 0 && edt[i] <= MaxDepthMm) n++;
        _index = new int[n];
        _depth = new float[n];
        n = 0;
        for (int i = 0; i < edt.Length; i++)
            if (brain[i] != 0 && edt[i] <= MaxDepthMm) { _index[n] = i; _depth[n] = edt[i]; n++; }
        BrainVoxels = 0;
        foreach (var b in brain) BrainVoxels += b;
    }

    /// <summary>The model for an atlas, computed once per atlas object.</summary>
    public static AtrophyModel For(Atlas atlas) => Cache.GetValue(atlas, a => new AtrophyModel(a));

    public long BrainVoxels { get; }

    /// <summary>Number of voxels that could be removed.</summary>
    public int Candidates => _index.Length;

    /// <summary>
    /// The voxels (flat indices on the atlas grid) to relabel as CSF so that brain tissue keeps
    /// <paramref name="brainFraction"/> of its atlas volume; deterministic for a given key.
    /// </summary>
    public int[] Select(double brainFraction, ulong key, double jitterMm)
    {
        if (!(brainFraction > 0 && brainFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(brainFraction), brainFraction, "must be in (0, 1]");
        long k = (long)Math.Round((1 - brainFraction) * BrainVoxels);
        if (k == 0) return Array.Empty<int>();
        if (k > _index.Length)
            throw new ArgumentException(FormattableString.Invariant(
                $"atrophy to {brainFraction:P1} of the brain needs {k} voxels but only {_index.Length} lie within {MaxDepthMm} mm of the brain surface"));
        // The smooth field is a sum of plane waves; a wave's phase is linear in the voxel indices, so each wave is a
        // product of three per-axis complex exponentials, tabulated once per subject.
        var field = new SmoothField(key, 50.0);
        var shape = _atlas.Head.Shape;
        var tables = field.AxisTables(_atlas.Head.Affine, shape);
        var keys = new float[_index.Length];
        var idx = _index;
        int nx = shape.X, ny = shape.Y;
        Parallelism.For(0, (_index.Length + 65535) / 65536, c =>
        {
            int lo = c * 65536, hi = Math.Min(_index.Length, lo + 65536);
            for (int i = lo; i < hi; i++)
            {
                int v = _index[i];
                int x = v % nx, r = v / nx, y = r % ny, z = r / ny;
                keys[i] = (float)(_depth[i] + jitterMm * field.Value(tables, x, y, z));
            }
        });
        // Partial selection of the k smallest keys: histogram the keys, take every bin below the one where the count
        // crosses k, and sort only that bin's members (ties broken by voxel index, so the choice is deterministic).
        float kmin = float.MaxValue, kmax = float.MinValue;
        foreach (var x in keys) { if (x < kmin) kmin = x; if (x > kmax) kmax = x; }
        const int Bins = 8192;
        double scale = kmax > kmin ? Bins / (kmax - (double)kmin) : 0;
        int BinOf(float x) => Math.Min(Bins - 1, (int)((x - kmin) * scale));
        var hist = new int[Bins];
        foreach (var x in keys) hist[BinOf(x)]++;
        int cut = 0;
        long below = 0;
        while (below + hist[cut] < k) below += hist[cut++];
        var sel = new List<int>((int)k);
        var edge = new List<(float Key, int Index)>();
        for (int i = 0; i < keys.Length; i++)
        {
            int b = BinOf(keys[i]);
            if (b < cut) sel.Add(idx[i]);
            else if (b == cut) edge.Add((keys[i], idx[i]));
        }
        edge.Sort((p, q) => p.Key != q.Key ? p.Key.CompareTo(q.Key) : p.Index.CompareTo(q.Index));
        for (int i = 0; sel.Count < k; i++) sel.Add(edge[i].Index);
        var result = sel.ToArray();
        Array.Sort(result);
        return result;
    }

    /// <summary>A smooth random function of world position in [−1, 1]: a normalised sum of random plane waves.</summary>
    private sealed class SmoothField
    {
        private readonly (double X, double Y, double Z, double Phase)[] _w;
        private readonly double _amp;

        public SmoothField(ulong key, double wavelengthMm)
        {
            var rng = new DeterministicRandom(CounterHash.Mix(key, 0xA7209UL));
            _w = new (double, double, double, double)[8];
            for (int i = 0; i < _w.Length; i++)
            {
                double z = rng.Uniform(-1, 1), a = rng.Uniform(0, 2 * Math.PI), r = Math.Sqrt(1 - z * z);
                double f = 2 * Math.PI / (wavelengthMm * rng.Uniform(0.7, 1.4));
                _w[i] = (f * r * Math.Cos(a), f * r * Math.Sin(a), f * z, rng.Uniform(0, 2 * Math.PI));
            }
            _amp = Math.Sqrt(2.0 / _w.Length) / 2.5; // unit variance / 2.5: values mostly within ±1
        }

        /// <summary>Per wave and axis, cos and sin of the phase contribution of each voxel index (the constant phase folded into x).</summary>
        public (double[] Cx, double[] Sx, double[] Cy, double[] Sy, double[] Cz, double[] Sz)[] AxisTables(Affine affine, Shape3 shape)
        {
            var t = new (double[], double[], double[], double[], double[], double[])[_w.Length];
            for (int k = 0; k < _w.Length; k++)
            {
                var w = _w[k];
                // phase(i, j, l) = kᵀ(A·[i j l 1]) + φ = ai·i + aj·j + al·l + a0
                double ai = w.X * affine[0, 0] + w.Y * affine[1, 0] + w.Z * affine[2, 0];
                double aj = w.X * affine[0, 1] + w.Y * affine[1, 1] + w.Z * affine[2, 1];
                double al = w.X * affine[0, 2] + w.Y * affine[1, 2] + w.Z * affine[2, 2];
                double a0 = w.X * affine[0, 3] + w.Y * affine[1, 3] + w.Z * affine[2, 3] + w.Phase;
                static (double[] C, double[] S) Tab(int n, double a, double off)
                {
                    var c = new double[n];
                    var s = new double[n];
                    for (int i = 0; i < n; i++) (s[i], c[i]) = Math.SinCos(a * i + off);
                    return (c, s);
                }
                var (cx, sx) = Tab(shape.X, ai, a0);
                var (cy, sy) = Tab(shape.Y, aj, 0);
                var (cz, sz) = Tab(shape.Z, al, 0);
                t[k] = (cx, sx, cy, sy, cz, sz);
            }
            return t;
        }

        /// <summary>The field at voxel (x, y, z) from <see cref="AxisTables"/>: Σ cos(px + py + pz) by angle addition.</summary>
        public double Value((double[] Cx, double[] Sx, double[] Cy, double[] Sy, double[] Cz, double[] Sz)[] t, int x, int y, int z)
        {
            double s = 0;
            foreach (var w in t)
            {
                // cos(a+b+c) = Re(e^{ia} e^{ib} e^{ic})
                double re = w.Cx[x] * w.Cy[y] - w.Sx[x] * w.Sy[y];
                double im = w.Sx[x] * w.Cy[y] + w.Cx[x] * w.Sy[y];
                s += re * w.Cz[z] - im * w.Sz[z];
            }
            return Math.Clamp(s * _amp, -1, 1);
        }
    }
}
