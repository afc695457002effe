using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Morphology;

/// <summary>
/// The exact engine behind binary erosion and dilation with any structuring element.
/// <para>
/// The element is split into runs along x (<see cref="StructuringElement.Rows"/>). For the source image we keep, per
/// voxel, the distance along its x-row to the next set voxel at or after it (saturated at 255). "Some set voxel lies in
/// source-row positions [x+lo, x+hi]" is then the single comparison next[x+lo] ≤ hi−lo, which vectorises over a whole
/// output row. A structuring element with R rows costs R vector passes over the image, whatever its size: a ball of
/// radius 3 voxels has 29 rows, the 26-neighbourhood 9, the 6-neighbourhood 5. The result is the definition itself
/// (no approximation, no decomposition error), so it equals scipy's binary_erosion/binary_dilation voxel for voxel.
/// </para>
/// </summary>
internal static class RowHitEngine
{
    private const byte Saturated = 255;

    /// <summary>Longest run (hi − lo) the byte distances can test.</summary>
    internal const int MaxRunLength = 254;

    /// <summary>Row summary kept by <see cref="NextSetDistance"/>: no set voxel, some, or all set.</summary>
    internal const byte RowEmpty = 0, RowMixed = 1, RowFull = 2;

    /// <summary>
    /// next[i] = distance along x from voxel i to the next voxel at or after it (same row) that is set, where set means
    /// (src != 0) == <paramref name="setWhenNonZero"/>; 255 when none within 254 voxels or none before the row end.
    /// rowKind[r] says whether row r has no, some or only set voxels. Runs are found with vectorised searches, so
    /// uniform stretches cost a memset, not a loop.
    /// </summary>
    internal static void NextSetDistance(byte[] src, Shape3 shape, bool setWhenNonZero, byte[] next, byte[] rowKind)
    {
        int X = shape.X, rows = shape.Y * shape.Z;
        // descending[i] = min(255, X − i): a gap of g voxels before a set voxel reads descending[X−g ..]
        var descending = new byte[X];
        for (int i = 0; i < X; i++) descending[i] = (byte)Math.Min(Saturated, X - i);
        ParallelRows(rows, shape, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int b = r * X;
                var row = src.AsSpan(b, X);
                var outRow = next.AsSpan(b, X);
                int x = 0;
                byte kind = RowMixed;
                while (x < X)
                {
                    int s = setWhenNonZero ? row[x..].IndexOfAnyExcept((byte)0) : row[x..].IndexOf((byte)0);
                    if (s < 0)
                    {
                        outRow[x..].Fill(Saturated);
                        if (x == 0) kind = RowEmpty;
                        break;
                    }
                    if (s > 0) descending.AsSpan(X - s, s).CopyTo(outRow.Slice(x, s));
                    s += x;
                    int e = setWhenNonZero ? row[s..].IndexOf((byte)0) : row[s..].IndexOfAnyExcept((byte)0);
                    e = e < 0 ? X : s + e;
                    outRow[s..e].Clear();
                    if (s == 0 && e == X) kind = RowFull;
                    x = e;
                }
                rowKind[r] = kind;
            }
        });
    }

    /// <summary>
    /// dst[x,y,z] = 1 when, for some row (dy, dz, lo, hi), a set voxel lies at source positions [x+lo, x+hi] of row
    /// (y+dy, z+dz); positions outside the image count as set when <paramref name="borderSet"/>. With
    /// <paramref name="invert"/> the written value is the complement.
    /// </summary>
    internal static void Hit(byte[] next, byte[] rowKind, Shape3 shape, StructuringElement.RowInterval[] rows, bool borderSet, bool invert, byte[] dst)
    {
        foreach (var row in rows)
            if (row.Hi - row.Lo > MaxRunLength)
                throw new ArgumentException($"structuring element run of {row.Hi - row.Lo + 1} voxels along x is longer than {MaxRunLength + 1}");
        int X = shape.X, Y = shape.Y, Z = shape.Z;
        ParallelRows(Y * Z, shape, (r0, r1) =>
        {
            var acc = new byte[X + Vector<byte>.Count];
            for (int r = r0; r < r1; r++)
            {
                int y = r % Y, z = r / Y;
                Array.Clear(acc, 0, X);
                bool full = false;
                foreach (var row in rows)
                {
                    int sy = y + row.Dy, sz = z + row.Dz;
                    if ((uint)sy >= (uint)Y || (uint)sz >= (uint)Z)
                    {
                        if (borderSet) { full = true; break; }
                        continue;
                    }
                    int sr = sy + Y * sz;
                    byte kind = rowKind[sr];
                    if (kind == RowEmpty && !borderSet) continue;
                    if (kind == RowFull && row.Lo <= 0 && row.Hi >= 0) { full = true; break; } // every x sees a set voxel
                    OrRow(next, sr * X, X, row.Lo, row.Hi, borderSet, acc);
                }
                var outRow = dst.AsSpan(r * X, X);
                if (full) { outRow.Fill(invert ? (byte)0 : (byte)1); continue; }
                WriteRow(acc, outRow, invert);
            }
        });
    }

    /// <summary>acc[x] |= 0xFF when source row (at <paramref name="b"/>) has a set voxel in [x+lo, x+hi].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OrRow(byte[] next, int b, int X, int lo, int hi, bool borderSet, byte[] acc)
    {
        int len = hi - lo;
        // x range where the whole interval [x+lo, x+hi] lies inside the row
        int x0 = Math.Max(0, -lo);
        int x1 = Math.Min(X - 1, X - 1 - hi); // inclusive
        if (!borderSet)
        {
            // without a set border only the start matters on the right: next[] never looks past the row end
            x1 = Math.Min(X - 1, X - 1 - lo);
            // left part: the interval starts before the row; clip it to [0, x+hi]
            for (int x = 0; x < Math.Min(x0, X); x++)
            {
                int h = x + hi;
                if (h >= 0 && next[b] <= h) acc[x] = 0xFF;
            }
        }
        else
        {
            for (int x = 0; x < Math.Min(x0, X); x++) acc[x] = 0xFF;
            for (int x = Math.Max(x1 + 1, 0); x < X; x++) acc[x] = 0xFF;
        }
        if (x1 < x0) return;
        ref byte src = ref MemoryMarshal.GetArrayDataReference(next);
        ref byte a = ref MemoryMarshal.GetArrayDataReference(acc);
        int w = Vector<byte>.Count;
        if (Vector.IsHardwareAccelerated && x1 - x0 + 1 >= w)
        {
            var lenV = new Vector<byte>((byte)len);
            // whole vectors, then one last vector overlapping the previous one (OR is idempotent): no scalar tail
            for (int x2 = x0; ; x2 += w)
            {
                if (x2 > x1 - w + 1) x2 = x1 - w + 1;
                var v = Vector.LoadUnsafe(ref src, (nuint)(b + x2 + lo));
                var cur = Vector.LoadUnsafe(ref a, (nuint)x2);
                (cur | Vector.LessThanOrEqual(v, lenV)).StoreUnsafe(ref a, (nuint)x2);
                if (x2 == x1 - w + 1) break;
            }
            return;
        }
        for (int x2 = x0; x2 <= x1; x2++)
            if (next[b + x2 + lo] <= len) acc[x2] = 0xFF;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteRow(byte[] acc, Span<byte> outRow, bool invert)
    {
        int X = outRow.Length;
        int w = Vector<byte>.Count;
        if (Vector.IsHardwareAccelerated && X >= w)
        {
            var one = Vector<byte>.One;
            ref byte a = ref MemoryMarshal.GetArrayDataReference(acc);
            ref byte o = ref MemoryMarshal.GetReference(outRow);
            for (int x = 0; ; x += w)
            {
                if (x > X - w) x = X - w; // last vector overlaps: same values written twice
                var v = Vector.LoadUnsafe(ref a, (nuint)x);
                (invert ? Vector.AndNot(one, v) : v & one).StoreUnsafe(ref o, (nuint)x);
                if (x == X - w) break;
            }
            return;
        }
        for (int x = 0; x < X; x++) outRow[x] = (byte)((acc[x] != 0) ^ invert ? 1 : 0);
    }

    /// <summary>Runs <paramref name="body"/> over row ranges [r0, r1) in parallel when the image is large enough to pay.</summary>
    internal static void ParallelRows(int rows, Shape3 shape, Action<int, int> body)
    {
        long voxels = (long)rows * shape.X;
        if (voxels < 1 << 16 || Parallelism.Degree == 1) { body(0, rows); return; }
        int chunks = Math.Min(rows, Parallelism.Degree * 8);
        Parallelism.For(0, chunks, c =>
        {
            int r0 = (int)((long)rows * c / chunks), r1 = (int)((long)rows * (c + 1) / chunks);
            body(r0, r1);
        });
    }
}
