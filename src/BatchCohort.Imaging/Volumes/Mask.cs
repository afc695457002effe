using BatchCohort.Imaging.Processing;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace BatchCohort.Imaging.Volumes;

/// <summary>
/// A 3-D binary image on the same grid model as <see cref="Volume"/>: one byte per voxel (0 = outside, 1 = inside),
/// voxel (x, y, z) at x + X·(y + Y·z), with the voxel-to-world affine and spacing of the volume it came from.
/// Every operation in this library writes only 0 and 1; it reads any non-zero byte as inside, so a caller filling
/// <see cref="Data"/> by hand may use any non-zero value.
/// In NumPy terms it is a bool array arr[x, y, z] in Fortran order (what <c>nib.load(...).get_fdata() &gt; t</c> gives).
/// </summary>
public sealed class Mask
{
    public Mask(Shape3 shape, byte[] data, Affine affine, Spacing3? spacing = null) =>
        (Shape, Data, Affine, Spacing) = (shape, data, affine, Grid.Check(shape, data, affine, spacing));

    public Shape3 Shape { get; }

    /// <summary>0 = outside, non-zero (1 when written by this library) = inside.</summary>
    public byte[] Data { get; }

    public Affine Affine { get; }
    public Spacing3 Spacing { get; }

    public bool this[int x, int y, int z]
    {
        get => Data[Shape.Index(x, y, z)] != 0;
        set => Data[Shape.Index(x, y, z)] = value ? (byte)1 : (byte)0;
    }

    /// <summary>An all-outside mask on the grid of <paramref name="like"/>.</summary>
    public static Mask ZerosLike(Volume like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return new Mask(like.Shape, new byte[like.Shape.Count], like.Affine, like.Spacing);
    }

    /// <summary>An all-outside mask on the same grid.</summary>
    public Mask ZerosLike() => new(Shape, new byte[Shape.Count], Affine, Spacing);

    /// <summary>An all-outside axis-aligned mask with the given spacing and origin at voxel (0,0,0).</summary>
    public static Mask Zeros(Shape3 shape, Spacing3 spacing) =>
        new(shape, new byte[shape.Count], Affine.FromSpacing(spacing.X, spacing.Y, spacing.Z), spacing);

    /// <summary>Same grid, new voxels.</summary>
    public Mask WithData(byte[] data) => new(Shape, data, Affine, Spacing);

    public Mask Clone() => new(Shape, (byte[])Data.Clone(), Affine, Spacing);

    /// <summary>
    /// Inside where <c>value &gt; threshold</c>, compared exactly (in double precision). NumPy's <c>arr &gt; t</c> on a
    /// float32 array compares in float32 against t rounded to float32; the two differ only for a threshold that is
    /// not itself a float32 number (e.g. 0.1), never for whole numbers.
    /// </summary>
    /// <exception cref="ArgumentException">the threshold or a voxel is NaN.</exception>
    public static Mask GreaterThan(Volume volume, double threshold)
    {
        ArgumentNullException.ThrowIfNull(volume);
        if (double.IsNaN(threshold)) throw new ArgumentException("threshold is NaN", nameof(threshold));
        // v > t  ⇔  v > (largest float ≤ t), for every float v
        return RangeMask(volume, float.NegativeInfinity, FloatAtOrBelow(threshold), strictAbove: true);
    }

    /// <summary>
    /// The allocation-free form of <see cref="GreaterThan(Volume, double)"/> for hot loops: overwrites
    /// <paramref name="output"/> (same shape; its grid is left as it is).
    /// </summary>
    public static void GreaterThan(Volume volume, double threshold, Mask output)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(output);
        if (double.IsNaN(threshold)) throw new ArgumentException("threshold is NaN", nameof(threshold));
        if (output.Shape != volume.Shape) throw new ArgumentException($"output shape {output.Shape} does not match volume shape {volume.Shape}", nameof(output));
        RangeInto(volume, float.NegativeInfinity, FloatAtOrBelow(threshold), strictAbove: true, output.Data);
    }

    /// <summary>Inside where <c>lower ≤ value ≤ upper</c> (both ends included, compared exactly).</summary>
    /// <exception cref="ArgumentException">a bound or a voxel is NaN, or lower &gt; upper.</exception>
    public static Mask InRange(Volume volume, double lower, double upper)
    {
        ArgumentNullException.ThrowIfNull(volume);
        if (double.IsNaN(lower)) throw new ArgumentException("lower bound is NaN", nameof(lower));
        if (double.IsNaN(upper)) throw new ArgumentException("upper bound is NaN", nameof(upper));
        if (lower > upper) throw new ArgumentException($"lower bound {lower} is above upper bound {upper}", nameof(lower));
        // lower ≤ v ⇔ (smallest float ≥ lower) ≤ v;  v ≤ upper ⇔ v ≤ (largest float ≤ upper)
        return RangeMask(volume, FloatAtOrAbove(lower), FloatAtOrBelow(upper), strictAbove: false);
    }

    /// <summary>Inside where the voxel is non-zero (NaN counts as an error, not as non-zero).</summary>
    public static Mask NonZero(Volume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var src = volume.Data;
        var dst = GC.AllocateUninitializedArray<byte>(src.Length);
        bool nan = false;
        ForChunks(src.Length, (lo, hi) =>
        {
            bool localNan = false;
            for (int i = lo; i < hi; i++)
            {
                float v = src[i];
                localNan |= float.IsNaN(v);
                dst[i] = v != 0 ? (byte)1 : (byte)0;
            }
            if (localNan) nan = true;
        });
        if (nan) throw new ArgumentException("volume contains NaN voxels", nameof(volume));
        return new Mask(volume.Shape, dst, volume.Affine, volume.Spacing);
    }

    private static float FloatAtOrBelow(double t)
    {
        float f = (float)t;
        if (f > t) f = MathF.BitDecrement(f);
        return f;
    }

    private static float FloatAtOrAbove(double t)
    {
        float f = (float)t;
        if (f < t) f = MathF.BitIncrement(f);
        return f;
    }

    /// <summary>
    /// strictAbove: inside ⇔ v &gt; hi. Otherwise inside ⇔ lo ≤ v ≤ hi. Vectorised 32 voxels at a time; NaN anywhere throws.
    /// </summary>
    private static Mask RangeMask(Volume volume, float lo, float hi, bool strictAbove)
    {
        var dst = GC.AllocateUninitializedArray<byte>(volume.Data.Length);
        RangeInto(volume, lo, hi, strictAbove, dst);
        return new Mask(volume.Shape, dst, volume.Affine, volume.Spacing);
    }

    private static void RangeInto(Volume volume, float lo, float hi, bool strictAbove, byte[] dst)
    {
        var src = volume.Data;
        bool nan = false;
        ForChunks(src.Length, (a, b) =>
        {
            if (!RangeKernel(src.AsSpan(a, b - a), dst.AsSpan(a, b - a), lo, hi, strictAbove)) nan = true;
        });
        if (nan) throw new ArgumentException("volume contains NaN voxels: a threshold would silently call them outside", nameof(volume));
    }

    /// <summary>Returns false when a NaN was seen.</summary>
    private static bool RangeKernel(ReadOnlySpan<float> src, Span<byte> dst, float lo, float hi, bool strictAbove) =>
        strictAbove ? Kernel<Above>(src, dst, lo, hi) : Kernel<Between>(src, dst, lo, hi);

    private interface ICompare
    {
        static abstract Vector256<float> Test(Vector256<float> a, Vector256<float> lo, Vector256<float> hi);
        static abstract bool Test(float a, float lo, float hi);
    }

    private readonly struct Above : ICompare
    {
        public static Vector256<float> Test(Vector256<float> a, Vector256<float> lo, Vector256<float> hi) => Vector256.GreaterThan(a, hi);
        public static bool Test(float a, float lo, float hi) => a > hi;
    }

    private readonly struct Between : ICompare
    {
        public static Vector256<float> Test(Vector256<float> a, Vector256<float> lo, Vector256<float> hi) =>
            Vector256.GreaterThanOrEqual(a, lo) & Vector256.LessThanOrEqual(a, hi);
        public static bool Test(float a, float lo, float hi) => a >= lo && a <= hi;
    }

    private static bool Kernel<T>(ReadOnlySpan<float> src, Span<byte> dst, float lo, float hi) where T : struct, ICompare
    {
        int i = 0, n = src.Length;
        bool ok = true;
        if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            var vlo = Vector256.Create(lo);
            var vhi = Vector256.Create(hi);
            var one = Vector256<byte>.One;
            var ordered = Vector256<float>.AllBitsSet;
            ref float s = ref MemoryMarshal.GetReference(src);
            ref byte d = ref MemoryMarshal.GetReference(dst);
            for (; i <= n - 32; i += 32)
            {
                var a0 = Vector256.LoadUnsafe(ref s, (nuint)i);
                var a1 = Vector256.LoadUnsafe(ref s, (nuint)(i + 8));
                var a2 = Vector256.LoadUnsafe(ref s, (nuint)(i + 16));
                var a3 = Vector256.LoadUnsafe(ref s, (nuint)(i + 24));
                ordered &= Vector256.Equals(a0, a0) & Vector256.Equals(a1, a1) & Vector256.Equals(a2, a2) & Vector256.Equals(a3, a3);
                var s01 = Vector256.Narrow(T.Test(a0, vlo, vhi).AsInt32(), T.Test(a1, vlo, vhi).AsInt32());
                var s23 = Vector256.Narrow(T.Test(a2, vlo, vhi).AsInt32(), T.Test(a3, vlo, vhi).AsInt32());
                (Vector256.Narrow(s01, s23).AsByte() & one).StoreUnsafe(ref d, (nuint)i);
            }
            ok = ordered.AsUInt32() == Vector256<uint>.AllBitsSet; // compare bits: AllBitsSet as a float is a NaN
        }
        for (; i < n; i++)
        {
            float v = src[i];
            if (float.IsNaN(v)) ok = false;
            dst[i] = T.Test(v, lo, hi) ? (byte)1 : (byte)0;
        }
        return ok;
    }

    /// <summary>dst[i] = src[i] != 0 ? 1 : 0, vectorised.</summary>
    internal static void Normalize(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int i = 0, n = src.Length;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256<byte>.One;
            ref byte s = ref MemoryMarshal.GetReference(src);
            ref byte d = ref MemoryMarshal.GetReference(dst);
            for (; i <= n - 32; i += 32)
                Vector256.AndNot(one, Vector256.Equals(Vector256.LoadUnsafe(ref s, (nuint)i), Vector256<byte>.Zero)).StoreUnsafe(ref d, (nuint)i);
        }
        for (; i < n; i++) dst[i] = src[i] != 0 ? (byte)1 : (byte)0;
    }

    /// <summary>Inside where <paramref name="predicate"/> is true (called once per voxel, possibly from several threads).</summary>
    public static Mask Where(Volume volume, Func<float, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(predicate);
        var src = volume.Data;
        var dst = GC.AllocateUninitializedArray<byte>(src.Length);
        ForChunks(src.Length, (lo, hi) =>
        {
            for (int i = lo; i < hi; i++) dst[i] = predicate(src[i]) ? (byte)1 : (byte)0;
        });
        return new Mask(volume.Shape, dst, volume.Affine, volume.Spacing);
    }

    /// <summary>The mask as a float volume: <paramref name="inside"/> where inside, <paramref name="outside"/> elsewhere.</summary>
    public Volume ToVolume(float inside = 1f, float outside = 0f)
    {
        var dst = GC.AllocateUninitializedArray<float>(Data.Length);
        var src = Data;
        ForChunks(src.Length, (lo, hi) =>
        {
            for (int i = lo; i < hi; i++) dst[i] = src[i] != 0 ? inside : outside;
        });
        return new Volume(Shape, dst, Affine, Spacing);
    }

    /// <summary>Number of inside voxels.</summary>
    public long CountNonZero()
    {
        long zeros = 0;
        var src = Data;
        ForChunks(src.Length, (lo, hi) => Interlocked.Add(ref zeros, src.AsSpan(lo, hi - lo).Count((byte)0)));
        return src.LongLength - zeros;
    }

    /// <summary>True when no voxel is inside.</summary>
    public bool IsEmpty() => Data.AsSpan().IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Volume of one voxel in mm³ (from the spacing).</summary>
    public double VoxelVolumeMm3 => Spacing.VoxelVolumeMm3;

    /// <summary>Inside volume in millilitres: voxel count × voxel volume (mm³) / 1000.</summary>
    public double VolumeMl() => CountNonZero() * Spacing.VoxelVolumeMm3 / 1000.0;

    /// <summary>True when <paramref name="other"/> has the same shape (and so can be combined voxel by voxel).</summary>
    public bool SameShape(Mask other) => other is not null && other.Shape == Shape;

    /// <summary>Voxel-wise AND of two masks on the same grid (the grid of this one is kept).</summary>
    public Mask And(Mask other) => Combine(other, nameof(other), 0);

    /// <summary>Voxel-wise OR of two masks on the same grid.</summary>
    public Mask Or(Mask other) => Combine(other, nameof(other), 1);

    /// <summary>Voxels inside this mask and outside <paramref name="other"/>.</summary>
    public Mask AndNot(Mask other) => Combine(other, nameof(other), 2);

    /// <summary>Voxel-wise complement.</summary>
    public Mask Not()
    {
        var dst = new byte[Data.Length];
        var src = Data;
        for (int i = 0; i < src.Length; i++) dst[i] = src[i] != 0 ? (byte)0 : (byte)1;
        return WithData(dst);
    }

    private Mask Combine(Mask other, string name, int op)
    {
        ArgumentNullException.ThrowIfNull(other, name);
        RequireSameShape(other, name);
        var a = Data;
        var b = other.Data;
        var dst = new byte[a.Length];
        switch (op)
        {
            case 0: for (int i = 0; i < a.Length; i++) dst[i] = a[i] != 0 && b[i] != 0 ? (byte)1 : (byte)0; break;
            case 1: for (int i = 0; i < a.Length; i++) dst[i] = a[i] != 0 || b[i] != 0 ? (byte)1 : (byte)0; break;
            default: for (int i = 0; i < a.Length; i++) dst[i] = a[i] != 0 && b[i] == 0 ? (byte)1 : (byte)0; break;
        }
        return WithData(dst);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="paramName"/> when the shapes differ.</summary>
    public void RequireSameShape(Mask other, string paramName)
    {
        if (other.Shape != Shape)
            throw new ArgumentException($"shape {other.Shape} does not match {Shape}", paramName);
    }

    public override string ToString() => $"Mask {Shape} @ {Spacing}";

    private static void ForChunks(int n, Action<int, int> body)
    {
        const int minChunk = 1 << 18;
        if (n <= minChunk || Parallelism.Degree == 1) { body(0, n); return; }
        int chunks = Math.Min((n + minChunk - 1) / minChunk, Parallelism.Degree * 4);
        Parallelism.For(0, chunks, c => body((int)((long)n * c / chunks), (int)((long)n * (c + 1) / chunks)));
    }
}
