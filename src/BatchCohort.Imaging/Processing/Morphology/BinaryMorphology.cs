using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Morphology;

/// <summary>
/// scipy.ndimage binary morphology on <see cref="Mask"/>s: binary_erosion, binary_dilation, binary_opening,
/// binary_closing and binary_fill_holes (FillHoles.cs), with scipy's semantics:
/// <list type="bullet">
/// <item>default structure: the 6-neighbourhood (generate_binary_structure(3, 1));</item>
/// <item>erosion: out[p] = all s in S: in[p + s]; dilation: out[p] = any s in S: in[p − s] (s = offset from the centre);</item>
/// <item>voxels outside the image read as <c>borderValue</c> (default false, so erosion eats objects touching the border
///   and closing is not extensive there — exactly as scipy);</item>
/// <item><c>iterations</c> repeats the operation (must be ≥ 1: scipy's "iterations &lt; 1 = until nothing changes" is
///   <see cref="BinaryDilationToConvergence"/> here, so a typo cannot run unbounded);</item>
/// <item><c>mask</c>: only voxels inside it may change, at every iteration.</item>
/// </list>
/// Results are exact (identical to scipy with the same structure) at any structure size; see <see cref="RowHitEngine"/>.
/// </summary>
public static partial class BinaryMorphology
{
    /// <summary>scipy.ndimage.binary_erosion(input, structure, iterations, mask, border_value).</summary>
    public static Mask BinaryErosion(Mask input, StructuringElement? structure = null, int iterations = 1, Mask? mask = null, bool borderValue = false)
    {
        Validate(input, iterations, mask);
        var s = structure ?? StructuringElement.Neighbourhood6;
        return Iterate(input, s, iterations, mask, borderValue, erode: true);
    }

    /// <summary>scipy.ndimage.binary_dilation(input, structure, iterations, mask, border_value).</summary>
    public static Mask BinaryDilation(Mask input, StructuringElement? structure = null, int iterations = 1, Mask? mask = null, bool borderValue = false)
    {
        Validate(input, iterations, mask);
        var s = structure ?? StructuringElement.Neighbourhood6;
        return Iterate(input, s, iterations, mask, borderValue, erode: false);
    }

    /// <summary>Erosion by a ball of <paramref name="radiusMm"/> on the input's spacing (<see cref="StructuringElement.Ball"/>).</summary>
    public static Mask BinaryErosion(Mask input, double radiusMm, int iterations = 1, bool borderValue = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        return BinaryErosion(input, StructuringElement.Ball(radiusMm, input.Spacing), iterations, null, borderValue);
    }

    /// <summary>Dilation by a ball of <paramref name="radiusMm"/> on the input's spacing.</summary>
    public static Mask BinaryDilation(Mask input, double radiusMm, int iterations = 1, bool borderValue = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        return BinaryDilation(input, StructuringElement.Ball(radiusMm, input.Spacing), iterations, null, borderValue);
    }

    /// <summary>scipy.ndimage.binary_opening: erosion then dilation, each <paramref name="iterations"/> times.</summary>
    public static Mask BinaryOpening(Mask input, StructuringElement? structure = null, int iterations = 1, Mask? mask = null, bool borderValue = false)
    {
        Validate(input, iterations, mask);
        var s = structure ?? StructuringElement.Neighbourhood6;
        var work = new Workspace(input.Shape);
        var eroded = Iterate(input, s, iterations, mask, borderValue, erode: true, work);
        return Iterate(eroded, s, iterations, mask, borderValue, erode: false, work);
    }

    /// <summary>scipy.ndimage.binary_closing: dilation then erosion, each <paramref name="iterations"/> times.</summary>
    public static Mask BinaryClosing(Mask input, StructuringElement? structure = null, int iterations = 1, Mask? mask = null, bool borderValue = false)
    {
        Validate(input, iterations, mask);
        var s = structure ?? StructuringElement.Neighbourhood6;
        var work = new Workspace(input.Shape);
        var dilated = Iterate(input, s, iterations, mask, borderValue, erode: false, work);
        return Iterate(dilated, s, iterations, mask, borderValue, erode: true, work);
    }

    /// <summary>Opening by a ball of <paramref name="radiusMm"/> on the input's spacing.</summary>
    public static Mask BinaryOpening(Mask input, double radiusMm, int iterations = 1, bool borderValue = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        return BinaryOpening(input, StructuringElement.Ball(radiusMm, input.Spacing), iterations, null, borderValue);
    }

    /// <summary>Closing by a ball of <paramref name="radiusMm"/> on the input's spacing.</summary>
    public static Mask BinaryClosing(Mask input, double radiusMm, int iterations = 1, bool borderValue = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        return BinaryClosing(input, StructuringElement.Ball(radiusMm, input.Spacing), iterations, null, borderValue);
    }

    /// <summary>
    /// scipy's binary_dilation(..., iterations=-1): dilate until nothing changes (inside <paramref name="mask"/> when
    /// given — a geodesic reconstruction, scipy's binary_propagation). Stops at the first iteration that changes nothing.
    /// </summary>
    public static Mask BinaryDilationToConvergence(Mask input, StructuringElement? structure = null, Mask? mask = null, bool borderValue = false)
    {
        Validate(input, 1, mask);
        var s = structure ?? StructuringElement.Neighbourhood6;
        // A small element without a set border is a flood fill: every voxel of the mask reachable from the input by
        // steps of the element is set, whatever the number of iterations that takes (a whole-volume pass per
        // iteration costs O(N × depth); the fill O(N × |element|)). The same set as iterating, bit for bit.
        if (!borderValue && s.Shape.X <= 3 && s.Shape.Y <= 3 && s.Shape.Z <= 3)
            return FloodFill(input, s, mask);
        return Iterate(input, s, int.MaxValue, mask, borderValue, erode: false);
    }

    /// <summary>The fixed point of dilation by <paramref name="s"/> inside <paramref name="mask"/> (outside it the input
    /// is kept), by a breadth-first fill from the input's voxels: out[p] = 1 when p is set or p is in the mask and
    /// p − o is set for an offset o of the element.</summary>
    private static Mask FloodFill(Mask input, StructuringElement s, Mask? mask)
    {
        var shape = input.Shape;
        int nx = shape.X, ny = shape.Y, nz = shape.Z;
        long plane = (long)nx * ny;
        var offs = new List<(int Dx, int Dy, int Dz, long Lin)>();
        for (int dz = -s.HalfZ; dz <= s.HalfZ; dz++)
            for (int dy = -s.HalfY; dy <= s.HalfY; dy++)
                for (int dx = -s.HalfX; dx <= s.HalfX; dx++)
                    if ((dx | dy | dz) != 0 && s.Contains(dx, dy, dz)) offs.Add((dx, dy, dz, dx + (long)dy * nx + dz * plane));
        var o = offs.ToArray();
        var src = input.Data;
        var m = mask?.Data;
        var outBuf = new byte[src.Length];
        var queue = new int[src.Length];
        int head = 0, tail = 0;
        for (int i = 0; i < src.Length; i++)
            if (src[i] != 0) { outBuf[i] = 1; queue[tail++] = i; }
        while (head < tail)
        {
            int q = queue[head++];
            int x = q % nx, r = q / nx, y = r % ny, z = r / ny;
            foreach (var (dx, dy, dz, lin) in o)
            {
                int px = x + dx, py = y + dy, pz = z + dz;
                if ((uint)px >= (uint)nx || (uint)py >= (uint)ny || (uint)pz >= (uint)nz) continue;
                int p = (int)(q + lin);
                if (outBuf[p] != 0 || (m is not null && m[p] == 0)) continue;
                outBuf[p] = 1;
                queue[tail++] = p;
            }
        }
        return input.WithData(outBuf);
    }

    private static void Validate(Mask input, int iterations, Mask? mask)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (iterations < 1)
            throw new ArgumentException($"iterations must be at least 1, got {iterations}", nameof(iterations));
        if (mask is not null && mask.Shape != input.Shape)
            throw new ArgumentException($"mask shape {mask.Shape} does not match input shape {input.Shape}", nameof(mask));
    }

    /// <summary>Scratch shared by the two halves of an opening or closing: the row distances and a ping-pong buffer.</summary>
    private sealed class Workspace(Shape3 shape)
    {
        private byte[]? _next, _spare;
        public byte[] Next => _next ??= GC.AllocateUninitializedArray<byte>((int)shape.Count); // every voxel written before read
        public byte[] RowKind { get; } = new byte[shape.Y * shape.Z];

        /// <summary>A spare image-sized buffer for iterations, handed out once (the caller keeps it).</summary>
        public byte[] TakeSpare()
        {
            var b = _spare ?? GC.AllocateUninitializedArray<byte>((int)shape.Count);
            _spare = null;
            return b;
        }

        public void GiveSpare(byte[] b) => _spare = b;
    }

    private static Mask Iterate(Mask input, StructuringElement s, int iterations, Mask? mask, bool borderValue, bool erode, Workspace? work = null)
    {
        var shape = input.Shape;
        var rows = s.Rows;
        if (!erode) rows = Reflect(rows);
        work ??= new Workspace(shape);
        var next = work.Next;
        var rowKind = work.RowKind;
        var cur = input.Data;
        var outBuf = GC.AllocateUninitializedArray<byte>((int)shape.Count); // every row written by Hit
        byte[]? spare = null;
        for (int it = 0; it < iterations; it++)
        {
            if (erode)
            {
                // out = NOT (some s: background at p + s); outside reads as background unless borderValue
                RowHitEngine.NextSetDistance(cur, shape, setWhenNonZero: false, next, rowKind);
                RowHitEngine.Hit(next, rowKind, shape, rows, borderSet: !borderValue, invert: true, outBuf);
            }
            else
            {
                // out = some s: foreground at p − s
                RowHitEngine.NextSetDistance(cur, shape, setWhenNonZero: true, next, rowKind);
                RowHitEngine.Hit(next, rowKind, shape, rows, borderSet: borderValue, invert: false, outBuf);
            }
            if (mask is not null) KeepOutsideMask(cur, mask.Data, outBuf);
            bool last = it == iterations - 1;
            if (iterations == int.MaxValue && SameBits(cur, outBuf)) break;
            if (last) break;
            // ping-pong: never overwrite the caller's input
            var done = outBuf;
            outBuf = ReferenceEquals(cur, input.Data) ? (spare ??= work.TakeSpare()) : cur;
            cur = done;
        }
        // the buffer not returned goes back to the workspace for the other half of an opening/closing
        if (!ReferenceEquals(cur, input.Data) && !ReferenceEquals(cur, outBuf)) work.GiveSpare(cur);
        else if (spare is not null && !ReferenceEquals(spare, outBuf)) work.GiveSpare(spare);
        return input.WithData(outBuf);
    }

    /// <summary>Offsets negated: dilation reads in[p − s].</summary>
    private static StructuringElement.RowInterval[] Reflect(StructuringElement.RowInterval[] rows)
    {
        var r = new StructuringElement.RowInterval[rows.Length];
        for (int i = 0; i < rows.Length; i++) r[i] = new(-rows[i].Dy, -rows[i].Dz, -rows[i].Hi, -rows[i].Lo);
        return r;
    }

    private static void KeepOutsideMask(byte[] before, byte[] mask, byte[] after)
    {
        for (int i = 0; i < after.Length; i++)
            if (mask[i] == 0) after[i] = before[i] != 0 ? (byte)1 : (byte)0;
    }

    private static bool SameBits(byte[] a, byte[] b)
    {
        for (int i = 0; i < a.Length; i++)
            if ((a[i] != 0) != (b[i] != 0)) return false;
        return true;
    }
}
