using System.Collections.Concurrent;

namespace BatchCohort.Imaging.Processing.Filtering;

/// <summary>
/// A comparator network that puts the element of rank <see cref="Rank"/> (0-based, ascending) of N inputs into slot
/// <see cref="Output"/>: Batcher's odd–even merge sort on the next power of two, with the padding inputs treated as
/// +∞ (comparators against them vanish or become relabelings) and every comparator that cannot reach the output
/// removed. Branch-free, so it runs on SIMD vectors, one output voxel per lane.
/// For 27 inputs (3×3×3 median) this leaves a few hundred min/max operations per 8 voxels instead of a sort each.
/// </summary>
internal sealed class SelectionNetwork
{
    private static readonly ConcurrentDictionary<(int, int), SelectionNetwork> Cache = new();

    public static SelectionNetwork For(int n, int rank) => Cache.GetOrAdd((n, rank), k => new SelectionNetwork(k.Item1, k.Item2));

    /// <summary>Comparators (A, B): slot A gets min, slot B gets max. Slots are 0..N−1 (the inputs' slots).</summary>
    public (int A, int B)[] Comparators { get; }
    public int N { get; }
    public int Rank { get; }
    public int Output { get; }

    private SelectionNetwork(int n, int rank)
    {
        if (n < 1 || rank < 0 || rank >= n) throw new ArgumentOutOfRangeException(nameof(rank));
        N = n;
        Rank = rank;
        int p2 = 1;
        while (p2 < n) p2 *= 2;
        // logical wire → physical slot; slots ≥ n are the +∞ pads
        var slot = new int[p2];
        for (int i = 0; i < p2; i++) slot[i] = i;
        var emitted = new List<(int A, int B)>();
        for (int p = 1; p < p2; p *= 2)
        for (int k = p; k >= 1; k /= 2)
        for (int j = k % p; j <= p2 - 1 - k; j += 2 * k)
        for (int i = 0; i <= Math.Min(k - 1, p2 - j - k - 1); i++)
        {
            int a = i + j, b = i + j + k;
            if ((a / (2 * p)) != (b / (2 * p))) continue;
            bool infA = slot[a] >= n, infB = slot[b] >= n;
            if (infB) continue;                               // min(x, ∞) = x stays at a
            if (infA) { (slot[a], slot[b]) = (slot[b], slot[a]); continue; } // the value moves to a, ∞ to b
            emitted.Add((slot[a], slot[b]));
        }
        Output = slot[rank];
        // keep only comparators whose result can reach the output slot
        var needed = new bool[n];
        needed[Output] = true;
        var kept = new List<(int A, int B)>();
        for (int c = emitted.Count - 1; c >= 0; c--)
        {
            var (a, b) = emitted[c];
            if (!needed[a] && !needed[b]) continue;
            kept.Add((a, b));
            needed[a] = needed[b] = true;
        }
        kept.Reverse();
        Comparators = kept.ToArray();
    }

    /// <summary>Scalar reference application (tests).</summary>
    public float Select(ReadOnlySpan<float> values)
    {
        Span<float> v = stackalloc float[N];
        values[..N].CopyTo(v);
        foreach (var (a, b) in Comparators)
        {
            float x = v[a], y = v[b];
            v[a] = Math.Min(x, y);
            v[b] = Math.Max(x, y);
        }
        return v[Output];
    }
}
