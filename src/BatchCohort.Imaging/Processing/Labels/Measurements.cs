using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Labels;

/// <summary>Per-label statistics of a volume (one entry per requested label).</summary>
public sealed record LabelStatistics(int[] Index, long[] Count, double[] Sum, double[] Mean, double[] Variance, double[] Minimum, double[] Maximum);

/// <summary>
/// scipy.ndimage measurements with <c>labels</c> and <c>index</c>: sum, mean, variance, minimum, maximum,
/// center_of_mass, plus voxel counts and volumes in mL.
/// <list type="bullet">
/// <item>no labels: the whole image is one region (scipy's labels=None);</item>
/// <item>labels without index: every voxel with a label &gt; 0 is one region (scipy's index=None);</item>
/// <item>labels with index: one result per entry of <c>index</c>, in that order (repeats and absent labels allowed).</item>
/// </list>
/// Sums are accumulated in double; variance is the population variance (ddof = 0) computed in two passes, as scipy.
/// A label that has no voxel gives count 0, sum 0 and NaN for mean, variance and centre of mass (as scipy) — and NaN
/// for minimum and maximum, where scipy returns 0 (deliberate: 0 would look like a measured value).
/// NaN voxels inside a measured region throw (scipy would silently return NaN).
/// </summary>
public static class Measurements
{
    // ------------------------------------------------------------------ statistics

    /// <summary>All of count, sum, mean, variance, minimum and maximum per label in <paramref name="index"/>, in two passes.</summary>
    public static LabelStatistics Statistics(Volume input, LabelMap labels, ReadOnlySpan<int> index)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(labels);
        RequireSameShape(input.Shape, labels.Shape, nameof(labels));
        var map = SlotMap.ForIndex(index);
        return Compute(input, labels.Data, map, index.ToArray());
    }

    /// <summary>Statistics of the single region "label &gt; 0" (scipy's index=None), or of the whole image when <paramref name="labels"/> is null.</summary>
    public static LabelStatistics Statistics(Volume input, LabelMap? labels = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (labels is not null) RequireSameShape(input.Shape, labels.Shape, nameof(labels));
        return Compute(input, labels?.Data, SlotMap.Positive, [1]);
    }

    /// <summary>Statistics of the voxels inside <paramref name="mask"/>.</summary>
    public static LabelStatistics Statistics(Volume input, Mask mask)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(mask);
        RequireSameShape(input.Shape, mask.Shape, nameof(mask));
        return Compute(input, null, SlotMap.Positive, [1], mask.Data);
    }

    public static double[] Sum(Volume input, LabelMap labels, ReadOnlySpan<int> index) => Statistics(input, labels, index).Sum;
    public static double[] Mean(Volume input, LabelMap labels, ReadOnlySpan<int> index) => Statistics(input, labels, index).Mean;
    public static double[] Variance(Volume input, LabelMap labels, ReadOnlySpan<int> index) => Statistics(input, labels, index).Variance;
    public static double[] Minimum(Volume input, LabelMap labels, ReadOnlySpan<int> index) => Statistics(input, labels, index).Minimum;
    public static double[] Maximum(Volume input, LabelMap labels, ReadOnlySpan<int> index) => Statistics(input, labels, index).Maximum;

    public static double Sum(Volume input, LabelMap? labels = null) => Statistics(input, labels).Sum[0];
    public static double Mean(Volume input, LabelMap? labels = null) => Statistics(input, labels).Mean[0];
    public static double Variance(Volume input, LabelMap? labels = null) => Statistics(input, labels).Variance[0];
    public static double Minimum(Volume input, LabelMap? labels = null) => Statistics(input, labels).Minimum[0];
    public static double Maximum(Volume input, LabelMap? labels = null) => Statistics(input, labels).Maximum[0];

    public static double Sum(Volume input, Mask mask) => Statistics(input, mask).Sum[0];
    public static double Mean(Volume input, Mask mask) => Statistics(input, mask).Mean[0];
    public static double Variance(Volume input, Mask mask) => Statistics(input, mask).Variance[0];
    public static double Minimum(Volume input, Mask mask) => Statistics(input, mask).Minimum[0];
    public static double Maximum(Volume input, Mask mask) => Statistics(input, mask).Maximum[0];

    // ------------------------------------------------------------------ counts and volumes

    /// <summary>Voxel count per label in <paramref name="index"/>.</summary>
    public static long[] Count(LabelMap labels, ReadOnlySpan<int> index)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var map = SlotMap.ForIndex(index);
        var counts = new long[map.Slots];
        foreach (var l in labels.Data)
        {
            int s = map.Slot(l);
            if (s >= 0) counts[s]++;
        }
        var r = new long[index.Length];
        for (int i = 0; i < r.Length; i++) r[i] = counts[map.Slot(index[i])];
        return r;
    }

    /// <summary>Volume in mL (voxel count × voxel volume in mm³ / 1000) per label in <paramref name="index"/>.</summary>
    public static double[] VolumeMl(LabelMap labels, ReadOnlySpan<int> index)
    {
        var c = Count(labels, index);
        var r = new double[c.Length];
        for (int i = 0; i < r.Length; i++) r[i] = c[i] * labels.VoxelVolumeMm3 / 1000.0;
        return r;
    }

    /// <summary>Volume of a mask in mL (voxel count × voxel volume in mm³ / 1000).</summary>
    public static double VolumeMl(Mask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        return mask.VolumeMl();
    }

    // ------------------------------------------------------------------ centre of mass

    /// <summary>
    /// scipy.ndimage.center_of_mass(input, labels, index): Σ value·(x, y, z) / Σ value per label, in voxel coordinates
    /// (x, y, z) — the same tuple order as scipy on arr[x, y, z]. Use the volume's affine to get world mm.
    /// </summary>
    public static (double X, double Y, double Z)[] CenterOfMass(Volume input, LabelMap labels, ReadOnlySpan<int> index)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(labels);
        RequireSameShape(input.Shape, labels.Shape, nameof(labels));
        var idx = index.ToArray();
        return Centres(input, labels.Data, SlotMap.ForIndex(index), idx, null);
    }

    /// <summary>Centre of mass of the whole image, or of the region "label &gt; 0".</summary>
    public static (double X, double Y, double Z) CenterOfMass(Volume input, LabelMap? labels = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (labels is not null) RequireSameShape(input.Shape, labels.Shape, nameof(labels));
        return Centres(input, labels?.Data, SlotMap.Positive, [1], null)[0];
    }

    /// <summary>Centroid of a mask (every inside voxel weighs 1), in voxel coordinates. Throws when the mask is empty.</summary>
    public static (double X, double Y, double Z) CenterOfMass(Mask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var s = mask.Shape;
        double sx = 0, sy = 0, sz = 0;
        long n = 0;
        int i = 0;
        for (int z = 0; z < s.Z; z++)
        for (int y = 0; y < s.Y; y++)
        for (int x = 0; x < s.X; x++, i++)
            if (mask.Data[i] != 0) { sx += x; sy += y; sz += z; n++; }
        if (n == 0) throw new ArgumentException("mask is empty: it has no centre of mass", nameof(mask));
        return (sx / n, sy / n, sz / n);
    }

    // ------------------------------------------------------------------ machinery

    private static void RequireSameShape(Shape3 input, Shape3 other, string name)
    {
        if (input != other) throw new ArgumentException($"shape {other} does not match the input's shape {input}", name);
    }

    /// <summary>Maps a label value to an accumulator slot (or −1 to skip the voxel).</summary>
    private sealed class SlotMap
    {
        private readonly int _lo;
        private readonly int[]? _table;
        private readonly Dictionary<int, int>? _dict;
        private readonly bool _positive;

        private SlotMap(int lo, int[]? table, Dictionary<int, int>? dict, int slots, bool positive)
        {
            _lo = lo; _table = table; _dict = dict; Slots = slots; _positive = positive;
        }

        public int Slots { get; }

        /// <summary>One slot for every label &gt; 0 (scipy's index=None).</summary>
        public static SlotMap Positive { get; } = new(0, null, null, 1, true);

        public static SlotMap ForIndex(ReadOnlySpan<int> index)
        {
            if (index.Length == 0) throw new ArgumentException("index is empty: name at least one label", nameof(index));
            int lo = int.MaxValue, hi = int.MinValue;
            foreach (var v in index) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            var unique = new Dictionary<int, int>();
            foreach (var v in index) unique.TryAdd(v, unique.Count);
            long range = (long)hi - lo + 1;
            if (range <= Math.Max(1 << 16, 4L * index.Length))
            {
                var t = new int[range];
                Array.Fill(t, -1);
                foreach (var kv in unique) t[kv.Key - lo] = kv.Value;
                return new SlotMap(lo, t, null, unique.Count, false);
            }
            return new SlotMap(lo, null, unique, unique.Count, false);
        }

        public int Slot(int label)
        {
            if (_positive) return label > 0 ? 0 : -1;
            if (_table is not null)
            {
                long k = (long)label - _lo;
                return (ulong)k < (ulong)_table.Length ? _table[k] : -1;
            }
            return _dict!.TryGetValue(label, out var s) ? s : -1;
        }
    }

    private sealed class Acc(int slots)
    {
        public readonly long[] N = new long[slots];
        public readonly double[] S = new double[slots];
        public readonly double[] Min = Filled(slots, double.PositiveInfinity);
        public readonly double[] Max = Filled(slots, double.NegativeInfinity);
        public readonly double[] C = new double[slots];
        public bool Nan;

        private static double[] Filled(int n, double v) { var a = new double[n]; Array.Fill(a, v); return a; }
    }

    private const int Chunk = 1 << 16;

    /// <summary>slot of voxel i: from the labels, from a mask (inside = slot 0) or everything in slot 0.</summary>
    private static int SlotOf(int i, int[]? labels, byte[]? mask, SlotMap map) =>
        labels is not null ? map.Slot(labels[i]) : mask is not null ? (mask[i] != 0 ? 0 : -1) : 0;

    private static LabelStatistics Compute(Volume input, int[]? labels, SlotMap map, int[] index, byte[]? mask = null)
    {
        var v = input.Data;
        int n = v.Length, slots = map.Slots;
        int chunks = (n + Chunk - 1) / Chunk;
        var total = new Acc(slots);
        object gate = new();
        // pass 1: count, sum, min, max
        Parallelism.For(0, chunks, () => new Acc(slots), (c, _, a) =>
        {
            int hi = Math.Min(n, (c + 1) * Chunk);
            for (int i = c * Chunk; i < hi; i++)
            {
                int s = SlotOf(i, labels, mask, map);
                if (s < 0) continue;
                double x = v[i];
                if (double.IsNaN(x)) { a.Nan = true; continue; }
                a.N[s]++;
                a.S[s] += x;
                if (x < a.Min[s]) a.Min[s] = x;
                if (x > a.Max[s]) a.Max[s] = x;
            }
            return a;
        }, a =>
        {
            lock (gate)
            {
                total.Nan |= a.Nan;
                for (int s = 0; s < slots; s++)
                {
                    total.N[s] += a.N[s];
                    total.S[s] += a.S[s];
                    total.Min[s] = Math.Min(total.Min[s], a.Min[s]);
                    total.Max[s] = Math.Max(total.Max[s], a.Max[s]);
                }
            }
        });
        if (total.Nan) throw new ArgumentException("input has NaN voxels inside a measured region", nameof(input));
        var mean = new double[slots];
        for (int s = 0; s < slots; s++) mean[s] = total.N[s] > 0 ? total.S[s] / total.N[s] : double.NaN;
        // pass 2: centred sum of squares
        Parallelism.For(0, chunks, () => new double[slots], (c, _, sq) =>
        {
            int hi = Math.Min(n, (c + 1) * Chunk);
            for (int i = c * Chunk; i < hi; i++)
            {
                int s = SlotOf(i, labels, mask, map);
                if (s < 0) continue;
                double d = v[i] - mean[s];
                sq[s] += d * d;
            }
            return sq;
        }, sq => { lock (gate) for (int s = 0; s < slots; s++) total.C[s] += sq[s]; });
        int k = index.Length;
        var r = new LabelStatistics(index, new long[k], new double[k], new double[k], new double[k], new double[k], new double[k]);
        for (int j = 0; j < k; j++)
        {
            int s = labels is null ? 0 : map.Slot(index[j]);
            long cnt = total.N[s];
            r.Count[j] = cnt;
            r.Sum[j] = total.S[s];
            r.Mean[j] = mean[s];
            r.Variance[j] = cnt > 0 ? total.C[s] / cnt : double.NaN;
            r.Minimum[j] = cnt > 0 ? total.Min[s] : double.NaN;
            r.Maximum[j] = cnt > 0 ? total.Max[s] : double.NaN;
        }
        return r;
    }

    private static (double X, double Y, double Z)[] Centres(Volume input, int[]? labels, SlotMap map, int[] index, byte[]? mask)
    {
        var v = input.Data;
        var sh = input.Shape;
        int slots = map.Slots, planes = sh.Z;
        var w = new double[slots]; var mx = new double[slots]; var my = new double[slots]; var mz = new double[slots];
        object gate = new();
        bool nan = false;
        Parallelism.For(0, planes, () => new double[4 * slots], (z, _, a) =>
        {
            int i = z * sh.X * sh.Y;
            for (int y = 0; y < sh.Y; y++)
            for (int x = 0; x < sh.X; x++, i++)
            {
                int s = SlotOf(i, labels, mask, map);
                if (s < 0) continue;
                double val = v[i];
                if (double.IsNaN(val)) { nan = true; continue; }
                a[4 * s] += val; a[4 * s + 1] += val * x; a[4 * s + 2] += val * y; a[4 * s + 3] += val * z;
            }
            return a;
        }, a =>
        {
            lock (gate)
                for (int s = 0; s < slots; s++) { w[s] += a[4 * s]; mx[s] += a[4 * s + 1]; my[s] += a[4 * s + 2]; mz[s] += a[4 * s + 3]; }
        });
        if (nan) throw new ArgumentException("input has NaN voxels inside a measured region", nameof(input));
        var r = new (double, double, double)[index.Length];
        for (int j = 0; j < r.Length; j++)
        {
            int s = labels is null ? 0 : map.Slot(index[j]);
            r[j] = (mx[s] / w[s], my[s] / w[s], mz[s] / w[s]);
        }
        return r;
    }
}
