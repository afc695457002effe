using BatchCohort.Imaging.Processing.Morphology;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Processing.Labels;

/// <summary>
/// Connected components over runs along x: the image is cut into maximal runs of selected voxels per x-row, runs in
/// neighbouring rows that touch are merged with union-find. Work and memory scale with the number of runs, not
/// voxels; no per-voxel label buffer is needed unless the caller asks for one.
/// </summary>
internal sealed class RunComponents
{
    /// <summary>A previous row (dy, dz) that can touch the current one; Diagonal: runs also touch when they meet corner to corner in x.</summary>
    internal readonly record struct NeighbourRow(int Dy, int Dz, bool Diagonal);

    private RunComponents(Shape3 shape, int[] rowStart, int[] start, int[] end, int[] root)
    {
        Shape = shape;
        RowStart = rowStart;
        Start = start;
        End = end;
        Root = root;
    }

    public Shape3 Shape { get; }

    /// <summary>Runs of row r = y + Y·z are indices RowStart[r] .. RowStart[r+1]−1.</summary>
    public int[] RowStart { get; }

    /// <summary>First x of each run.</summary>
    public int[] Start { get; }

    /// <summary>Last x of each run (inclusive).</summary>
    public int[] End { get; }

    /// <summary>The root run of each run's component (the component's first run in storage order).</summary>
    public int[] Root { get; }

    public int RunCount => Start.Length;

    /// <summary>Previous-row neighbours for scipy's 3-D 6/18/26 connectivity.</summary>
    public static NeighbourRow[] Neighbours3D(int connectivity) => connectivity switch
    {
        6 => [new(-1, 0, false), new(0, -1, false)],
        18 => [new(-1, 0, true), new(0, -1, true), new(-1, -1, false), new(1, -1, false)],
        26 => [new(-1, 0, true), new(0, -1, true), new(-1, -1, true), new(1, -1, true)],
        _ => throw new ArgumentException($"connectivity must be 6, 18 or 26, got {connectivity}", nameof(connectivity)),
    };

    /// <summary>Components of the voxels whose (value != 0) equals <paramref name="selectNonZero"/>.</summary>
    public static RunComponents Find(byte[] data, Shape3 shape, bool selectNonZero, NeighbourRow[] neighbours)
    {
        int X = shape.X, Y = shape.Y, rows = shape.Y * shape.Z;
        var rowStart = new int[rows + 1];
        // pass 1: runs per row
        RowHitEngine.ParallelRows(rows, shape, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var row = data.AsSpan(r * X, X);
                int n = 0, x = 0;
                while ((x = NextRun(row, x, selectNonZero, out int e)) >= 0) { n++; x = e; }
                rowStart[r + 1] = n;
            }
        });
        long total = 0;
        for (int r = 0; r < rows; r++)
        {
            total += rowStart[r + 1];
            if (total > Array.MaxLength) throw new ArgumentException($"{shape} has more runs than an array can hold", nameof(data));
            rowStart[r + 1] = (int)total;
        }
        int count = (int)total;
        var start = new int[count];
        var end = new int[count];
        // pass 2: run extents
        RowHitEngine.ParallelRows(rows, shape, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var row = data.AsSpan(r * X, X);
                int k = rowStart[r], x = 0;
                while ((x = NextRun(row, x, selectNonZero, out int e)) >= 0)
                {
                    start[k] = x;
                    end[k++] = e - 1;
                    x = e;
                }
            }
        });
        // pass 3: union-find over touching runs of previous rows (parents always point to smaller indices).
        // Slabs of z run in parallel: a slab's runs are a contiguous index range and, leaving out the links to the
        // plane before the slab, it only touches its own range; those links are made afterwards, in order.
        var parent = new int[count];
        for (int i = 0; i < count; i++) parent[i] = i;
        int slabs = Math.Min(Math.Max(1, Parallelism.Degree), Math.Max(1, shape.Z / 8));
        if (count < 1 << 14) slabs = 1;
        var z0s = new int[slabs + 1];
        for (int k = 0; k <= slabs; k++) z0s[k] = (int)((long)shape.Z * k / slabs);
        Parallelism.For(0, slabs, k =>
        {
            for (int z = z0s[k]; z < z0s[k + 1]; z++)
            for (int y = 0; y < Y; y++)
                UnionRow(y, z, z0s[k], shape, rowStart, start, end, parent, neighbours);
        });
        for (int k = 1; k < slabs; k++)
        {
            int z = z0s[k];
            for (int y = 0; y < Y; y++)
                UnionRow(y, z, -1, shape, rowStart, start, end, parent, neighbours, onlyPreviousPlane: true);
        }
        // parents point backwards, so one forward pass flattens every chain to its root
        for (int i = 0; i < count; i++) parent[i] = parent[parent[i]];
        return new RunComponents(shape, rowStart, start, end, parent);
    }

    /// <summary>
    /// Unions the runs of row (y, z) with touching runs of its previous neighbour rows; rows with z below
    /// <paramref name="zMin"/> are left out, or, with <paramref name="onlyPreviousPlane"/>, only rows of plane z − 1 are used.
    /// </summary>
    private static void UnionRow(int y, int z, int zMin, Shape3 shape, int[] rowStart, int[] start, int[] end, int[] parent,
        NeighbourRow[] neighbours, bool onlyPreviousPlane = false)
    {
        int Y = shape.Y;
        int r = y + Y * z;
        int a0 = rowStart[r], a1 = rowStart[r + 1];
        if (a0 == a1) return;
        foreach (var nb in neighbours)
        {
            int ny = y + nb.Dy, nz = z + nb.Dz;
            if ((uint)ny >= (uint)Y || (uint)nz >= (uint)shape.Z) continue;
            if (onlyPreviousPlane ? nz != z - 1 : nz < zMin) continue;
            int nr = ny + Y * nz;
            int b0 = rowStart[nr], b1 = rowStart[nr + 1];
            if (b0 == b1) continue;
            int slack = nb.Diagonal ? 1 : 0;
            int i = a0, j = b0;
            while (i < a1 && j < b1)
            {
                // touch when start_i ≤ end_j + slack and start_j ≤ end_i + slack
                if (start[i] <= end[j] + slack && start[j] <= end[i] + slack) Union(parent, i, j);
                if (end[i] < end[j]) i++; else j++;
            }
        }
    }

    /// <summary>Start of the next run of selected voxels at or after <paramref name="x"/> (−1 if none); <paramref name="end"/> is one past it.</summary>
    private static int NextRun(ReadOnlySpan<byte> row, int x, bool selectNonZero, out int end)
    {
        end = row.Length;
        if (x >= row.Length) return -1;
        int s = selectNonZero ? row[x..].IndexOfAnyExcept((byte)0) : row[x..].IndexOf((byte)0);
        if (s < 0) return -1;
        s += x;
        int e = selectNonZero ? row[s..].IndexOf((byte)0) : row[s..].IndexOfAnyExcept((byte)0);
        end = e < 0 ? row.Length : s + e;
        return s;
    }

    private static int FindRoot(int[] parent, int i)
    {
        while (parent[i] != i)
        {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    private static void Union(int[] parent, int a, int b)
    {
        a = FindRoot(parent, a);
        b = FindRoot(parent, b);
        if (a == b) return;
        if (a < b) parent[b] = a; else parent[a] = b;
    }

    /// <summary>
    /// Component numbers 1..n for each root, in scipy.ndimage.label's order on the NumPy array arr[x, y, z]: by the
    /// first voxel of each component in C (row-major, z-fastest) order, i.e. the smallest (x, y, z) lexicographically.
    /// Returns per-run labels and the count.
    /// </summary>
    public (int[] RunLabel, int Count) NumberInScipyOrder()
    {
        int n = RunCount, Y = Shape.Y, Z = Shape.Z;
        // smallest C-order index (x·Y + y)·Z + z over each component's runs (a run's smallest is at its start)
        var minC = new long[n];
        Array.Fill(minC, long.MaxValue);
        int rows = RowStart.Length - 1;
        for (int r = 0; r < rows; r++)
        {
            int y = r % Y, z = r / Y;
            for (int i = RowStart[r]; i < RowStart[r + 1]; i++)
            {
                long c = ((long)Start[i] * Y + y) * Z + z;
                int root = Root[i];
                if (c < minC[root]) minC[root] = c;
            }
        }
        int roots = 0;
        for (int i = 0; i < n; i++) if (Root[i] == i) roots++;
        var keys = new long[roots];
        var ids = new int[roots];
        for (int i = 0, k = 0; i < n; i++)
            if (Root[i] == i) { keys[k] = minC[i]; ids[k++] = i; }
        Array.Sort(keys, ids);
        var labelOfRoot = new int[n];
        for (int k = 0; k < roots; k++) labelOfRoot[ids[k]] = k + 1;
        var runLabel = new int[n];
        for (int i = 0; i < n; i++) runLabel[i] = labelOfRoot[Root[i]];
        return (runLabel, roots);
    }

    /// <summary>
    /// Writes every voxel of <paramref name="dst"/>: <paramref name="runValue"/>[run] on each run, default(T) between
    /// runs — so <paramref name="dst"/> may come uninitialised (one write per voxel, no separate zeroing pass).
    /// </summary>
    public void PaintAll<T>(T[] dst, T[] runValue)
    {
        int X = Shape.X;
        int rows = RowStart.Length - 1;
        var rs = RowStart;
        RowHitEngine.ParallelRows(rows, Shape, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int b = r * X, x = 0;
                for (int i = rs[r]; i < rs[r + 1]; i++)
                {
                    dst.AsSpan(b + x, Start[i] - x).Clear();
                    dst.AsSpan(b + Start[i], End[i] - Start[i] + 1).Fill(runValue[i]);
                    x = End[i] + 1;
                }
                dst.AsSpan(b + x, X - x).Clear();
            }
        });
    }

    /// <summary>Writes <paramref name="runValue"/>[run] over every run's voxels (others untouched).</summary>
    public void Paint<T>(T[] dst, T[] runValue)
    {
        int X = Shape.X;
        int rows = RowStart.Length - 1;
        var rs = RowStart;
        RowHitEngine.ParallelRows(rows, Shape, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int b = r * X;
                for (int i = rs[r]; i < rs[r + 1]; i++)
                    dst.AsSpan(b + Start[i], End[i] - Start[i] + 1).Fill(runValue[i]);
            }
        });
    }
}
