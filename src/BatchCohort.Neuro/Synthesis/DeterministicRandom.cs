namespace BatchCohort.Neuro.Synthesis;

/// <summary>
/// A seeded pseudo-random generator whose stream is fixed by this code alone (xoshiro256** seeded through
/// SplitMix64), so that the same seed gives the same numbers on every runtime and machine — unlike
/// <see cref="System.Random"/>, whose algorithm is an implementation detail. Not thread-safe: one per sequential use.
/// </summary>
public sealed class DeterministicRandom
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    public DeterministicRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>A generator for a named sub-stream (e.g. one subject) derived from a root seed.</summary>
    public static DeterministicRandom ForStream(ulong seed, ulong stream) => new(CounterHash.Mix(seed, stream, 0x5EED));

    public ulong NextUInt64()
    {
        ulong result = RotL(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotL(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [0, n) without modulo bias.</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must be positive");
        ulong bound = (ulong)n;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            if (r >= threshold) return (int)(r % bound);
        }
    }

    /// <summary>Standard normal (Box–Muller, polar-free form; pairs are cached).</summary>
    public double NextNormal()
    {
        if (_spareNormal is { } s)
        {
            _spareNormal = null;
            return s;
        }
        double u1 = 1.0 - NextDouble(); // (0, 1]
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        double a = 2.0 * Math.PI * u2;
        _spareNormal = r * Math.Sin(a);
        return r * Math.Cos(a);
    }

    /// <summary>Normal with mean and standard deviation, truncated to [lo, hi] by rejection.</summary>
    public double TruncatedNormal(double mean, double sd, double lo, double hi)
    {
        if (!(lo < hi)) throw new ArgumentException($"empty interval [{lo}, {hi}]");
        for (int i = 0; i < 1000; i++)
        {
            double v = mean + sd * NextNormal();
            if (v >= lo && v <= hi) return v;
        }
        return Math.Clamp(mean, lo, hi);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    private static ulong RotL(ulong x, int k) => (x << k) | (x >> (64 - k));

    internal static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>
/// Counter-based randomness: a hash of (key, index) gives an independent uniform number per voxel, so noise can
/// be generated in parallel in any order and still be bit-identical for the same seed.
/// </summary>
public static class CounterHash
{
    public static ulong Mix(ulong a, ulong b, ulong c = 0)
    {
        ulong x = a ^ (b * 0x9E3779B97F4A7C15UL) ^ (c * 0xC2B2AE3D27D4EB4FUL);
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>Two independent standard normals for a key and counter (Box–Muller).</summary>
    public static (double A, double B) NormalPair(ulong key, ulong counter)
    {
        ulong h = Mix(key, counter);
        ulong g = Mix(h, counter, 0xA5A5);
        double u1 = ((h >> 11) + 1) * (1.0 / (1UL << 53));
        double u2 = (g >> 11) * (1.0 / (1UL << 53));
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        var (s, c) = Math.SinCos(2.0 * Math.PI * u2);
        return (r * c, r * s);
    }
}
