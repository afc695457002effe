using BatchCohort.Imaging.Processing;
using System.Globalization;
using BatchCohort.Imaging.Volumes;

namespace BatchCohort.Imaging.Formats.Dicom;

/// <summary>The DICOM series found under a file or folder, and the files that were not usable images.</summary>
public sealed class DicomScan
{
    internal DicomScan(string root, IReadOnlyList<DicomSeries> series, IReadOnlyList<(string Path, string Reason)> skipped, int filesSeen)
    {
        Root = root;
        Series = series;
        Skipped = skipped;
        FilesSeen = filesSeen;
    }

    public string Root { get; }
    public IReadOnlyList<DicomSeries> Series { get; }
    /// <summary>Files that were looked at but are not usable images, with the reason (no patient data in it).</summary>
    public IReadOnlyList<(string Path, string Reason)> Skipped { get; }
    public int FilesSeen { get; }

    /// <summary>Scrubs every scanned image's patient name, ID and birth date from a line of text meant for output.</summary>
    public string Redact(string text)
    {
        foreach (var s in Series)
            foreach (var i in s.Instances)
                text = i.Redact(text);
        return text;
    }
}

/// <summary>
/// One series (SeriesInstanceUID). Its images are split into stacks of one geometry each (orientation, size,
/// pixel spacing): a localizer with three planes gives three stacks; a normal 3-D acquisition gives one.
/// </summary>
public sealed class DicomSeries
{
    internal DicomSeries(string uid, IReadOnlyList<DicomInstance> instances, IReadOnlyList<DicomStack> stacks)
    {
        SeriesInstanceUid = uid;
        Instances = instances;
        Stacks = stacks;
    }

    public string SeriesInstanceUid { get; }
    public IReadOnlyList<DicomInstance> Instances { get; }
    public IReadOnlyList<DicomStack> Stacks { get; }
    public int? SeriesNumber => Instances[0].SeriesNumber;
    public string Description => Instances[0].SeriesDescription;
    public string Modality => Instances[0].Modality;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"series {SeriesNumber?.ToString(CultureInfo.InvariantCulture) ?? "?"} '{Description}' ({Modality}, {Instances.Count} files, UID …{Tail(SeriesInstanceUid)})");

    internal static string Tail(string uid) => uid.Length <= 12 ? uid : uid[^12..];
}

/// <summary>One 2-D image of a stack: a file's frame, or a tile of a Siemens mosaic, placed in space.</summary>
public sealed record DicomSlice(DicomInstance Instance, int Frame, int Tile, double[]? Position)
{
    public override string ToString() => Tile >= 0
        ? $"{Path.GetFileName(Instance.Path)} tile {Tile + 1}"
        : Instance.Frames > 1 ? $"{Path.GetFileName(Instance.Path)} frame {Frame + 1}" : Path.GetFileName(Instance.Path);
}

/// <summary>
/// Slices of one geometry, sorted along the slice normal by ImagePositionPatient, with the grid they form:
/// dimensions, spacing (in-plane from PixelSpacing, through-plane from the positions), and the voxel-to-world
/// affine in RAS (DICOM's LPS with x and y negated). Repeated positions mean several volumes (echoes, time
/// points); gaps and uneven spacing are detected and named.
/// </summary>
public sealed class DicomStack
{
    private readonly DicomReadOptions _options;

    internal DicomStack(DicomSeries? series, List<DicomSlice> slices, int volumes, Affine affine, Spacing3 spacing,
        Shape3 shape, List<string> warnings, DicomReadOptions options, bool positionsKnown, List<string> problems, string where)
    {
        Problems = problems;
        _where = where;
        Slices = slices;
        VolumeCount = volumes;
        Affine = affine;
        Spacing = spacing;
        Shape = shape;
        Warnings = warnings;
        _options = options;
        PositionsKnown = positionsKnown;
    }

    /// <summary>Slices in volume order: for volume v, slice z is Slices[v + VolumeCount·z].</summary>
    public IReadOnlyList<DicomSlice> Slices { get; }
    public int VolumeCount { get; }
    public Shape3 Shape { get; }
    public Spacing3 Spacing { get; }
    /// <summary>Voxel (column, row, slice) → RAS millimetres.</summary>
    public Affine Affine { get; }
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Why this stack cannot be read as a volume (missing or uneven slices, inconsistent repeats, bad
    /// orientation); empty when it can. Loading a stack with problems throws with the first one.</summary>
    public IReadOnlyList<string> Problems { get; }
    private readonly string _where;
    public bool PositionsKnown { get; }
    public string OrientationCode => Volumes.Orientation.AxisCodes(Affine);
    public DicomInstance First => Slices[0].Instance;

    public override string ToString() =>
        $"{Shape} voxels @ {Spacing}, {OrientationCode}" + (VolumeCount > 1 ? $", {VolumeCount} volumes" : "");

    /// <summary>Reads the pixels of volume <paramref name="volume"/> into a <see cref="Volume"/> (modality values).</summary>
    public Volume Load(int volume = 0)
    {
        if ((uint)volume >= (uint)VolumeCount) throw new ArgumentOutOfRangeException(nameof(volume), $"stack has {VolumeCount} volume(s)");
        if (Problems.Count > 0) throw new DicomFormatException(_where, Problems[0]);
        var shape = Shape;
        var data = new float[shape.Count];
        int plane = shape.X * shape.Y;
        // One decoder per file (multi-frame files and mosaics serve several slices).
        var decoders = new Dictionary<DicomInstance, Lazy<DicomPixelData>>();
        foreach (var s in Slices)
            if (!decoders.ContainsKey(s.Instance))
            {
                var inst = s.Instance;
                decoders[inst] = new Lazy<DicomPixelData>(() => DicomPixelData.From(inst.File ?? DicomFile.Open(inst.Path), _options), LazyThreadSafetyMode.ExecutionAndPublication);
            }
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        Parallelism.For(0, shape.Z, z =>
        {
            try
            {
                var slice = Slices[volume + VolumeCount * z];
                var px = decoders[slice.Instance].Value;
                var d = px.Description;
                var dest = data.AsSpan(plane * z, plane);
                if (slice.Tile < 0)
                {
                    if (d.Rows != shape.Y || d.Columns != shape.X)
                        throw new DicomFormatException(slice.Instance.Path, $"image is {d.Columns}×{d.Rows}, the series' other images are {shape.X}×{shape.Y}");
                    px.DecodeFrame(slice.Frame, dest);
                }
                else
                {
                    var mosaic = slice.Instance.Mosaic!;
                    var full = new float[d.PixelsPerFrame];
                    px.DecodeFrame(slice.Frame, full);
                    int tr = slice.Tile / mosaic.GridSize, tc = slice.Tile % mosaic.GridSize;
                    for (int r = 0; r < mosaic.TileRows; r++)
                        full.AsSpan((tr * mosaic.TileRows + r) * d.Columns + tc * mosaic.TileColumns, mosaic.TileColumns)
                            .CopyTo(dest.Slice(r * mosaic.TileColumns, mosaic.TileColumns));
                }
            }
            catch (Exception ex) when (ex is DicomFormatException or ImageFormatException)
            {
                errors.Add(ex);
            }
        });
        if (!errors.IsEmpty) throw errors.First();
        return new Volume(shape, data, Affine, Spacing);
    }
}

/// <summary>
/// Finds DICOM series under a folder (recursively) or in one file, groups them by SeriesInstanceUID and by
/// geometry, sorts slices by ImagePositionPatient projected on the slice normal (never by file name or
/// InstanceNumber when positions exist), and reads them into volumes.
/// </summary>
public static class DicomSeriesReader
{
    /// <summary>Orientation cosines closer than this are one orientation.</summary>
    private const double OrientationTolerance = 1e-4;

    /// <summary>Scans a file or folder. With <paramref name="keepFiles"/>, parsed files stay in memory for loading.</summary>
    public static DicomScan Scan(string path, DicomReadOptions? options = null, bool keepFiles = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= DicomReadOptions.Default;
        IEnumerable<string> files;
        if (File.Exists(path)) files = new[] { path };
        else if (Directory.Exists(path))
            files = Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System })
                .OrderBy(f => f, StringComparer.Ordinal);
        else throw new DicomFormatException(path, "no such file or folder");

        var list = files.ToList();
        var instances = new DicomInstance?[list.Count];
        var reasons = new string?[list.Count];
        bool single = list.Count == 1 && File.Exists(path);
        Parallelism.For(0, list.Count, i =>
        {
            var f = list[i];
            try
            {
                // One read per file: small files are read whole and sniffed in memory; big ones are sniffed first.
                DicomFile file;
                if (!single && new FileInfo(f).Length > 64L << 20 && !DicomFile.LooksLikeDicom(f)) { reasons[i] = "not a DICOM file"; return; }
                byte[] bytes;
                try { bytes = File.ReadAllBytes(f); }
                catch (IOException ex) { reasons[i] = "cannot be read: " + ex.Message; return; }
                catch (UnauthorizedAccessException) { reasons[i] = "permission denied"; return; }
                if (!single && !DicomFile.LooksLikeDicom(bytes.AsSpan(0, Math.Min(bytes.Length, 140)))) { reasons[i] = "not a DICOM file"; return; }
                file = DicomFile.Parse(bytes, f);
                var inst = new DicomInstance(f, keepFiles ? file : null, file.Dataset, file.TransferSyntax);
                if (!inst.HasPixels) { reasons[i] = "no pixel data (not an image)"; return; }
                if (inst.Rows <= 0 || inst.Columns <= 0) { reasons[i] = "Rows/Columns missing or zero"; return; }
                instances[i] = inst;
            }
            catch (DicomFormatException ex)
            {
                if (single) throw;
                reasons[i] = ex.Problem;
            }
        });
        if (single && instances[0] is null)
            throw new DicomFormatException(path, reasons[0] ?? "not a usable DICOM image");

        var skipped = new List<(string, string)>();
        for (int i = 0; i < list.Count; i++) if (reasons[i] is { } r) skipped.Add((list[i], r));

        var bySeries = instances.Where(x => x is not null).Select(x => x!)
            .GroupBy(x => x.SeriesInstanceUid, StringComparer.Ordinal)
            .OrderBy(g => g.First().SeriesNumber ?? int.MaxValue).ThenBy(g => g.Key, StringComparer.Ordinal);
        var series = new List<DicomSeries>();
        foreach (var g in bySeries)
        {
            var members = g.ToList();
            var stacks = BuildStacks(members, options);
            var s = new DicomSeries(g.Key, members, stacks);
            series.Add(s);
        }
        return new DicomScan(path, series, skipped, list.Count);
    }

    /// <summary>
    /// Reads a DICOM file or folder as one volume. The folder must hold exactly one series with one geometry and
    /// one volume, unless <paramref name="seriesInstanceUid"/> picks one; otherwise the message lists what was found.
    /// </summary>
    public static Volume ReadVolume(string path, DicomReadOptions? options = null, string? seriesInstanceUid = null)
    {
        var scan = Scan(path, options, keepFiles: true);
        var stack = SelectStack(scan, seriesInstanceUid);
        return stack.Load();
    }

    /// <summary>The single stack a volume read means, or a message listing the choices.</summary>
    public static DicomStack SelectStack(DicomScan scan, string? seriesInstanceUid = null) => Select(scan, seriesInstanceUid, false);

    /// <summary>As <see cref="SelectStack"/>, but a stack of several volumes (a 4-D series) is accepted.</summary>
    public static DicomStack SelectStackAllowingVolumes(DicomScan scan, string? seriesInstanceUid = null) => Select(scan, seriesInstanceUid, true);

    private static DicomStack Select(DicomScan scan, string? seriesInstanceUid, bool allowVolumes)
    {
        var candidates = scan.Series.Where(s => seriesInstanceUid is null || s.SeriesInstanceUid == seriesInstanceUid).ToList();
        if (candidates.Count == 0)
        {
            string why = seriesInstanceUid is not null
                ? $"no series with SeriesInstanceUID {seriesInstanceUid}"
                : scan.Skipped.Count > 0
                    ? $"no DICOM image found ({scan.Skipped.Count} file(s) skipped, e.g. {Path.GetFileName(scan.Skipped[0].Path)}: {scan.Skipped[0].Reason})"
                    : "no DICOM image found";
            throw new DicomFormatException(scan.Root, why);
        }
        if (candidates.Count > 1)
            throw new DicomFormatException(scan.Root,
                $"holds {candidates.Count} series; choose one by SeriesInstanceUID: " +
                string.Join("; ", candidates.Select(s => $"{s} {s.Stacks[0]} UID {s.SeriesInstanceUid}")));
        var series = candidates[0];
        if (series.Stacks.Count > 1)
            throw new DicomFormatException(scan.Root,
                $"{series} mixes {series.Stacks.Count} geometries (orientation or image size), e.g. a localizer: " +
                string.Join("; ", series.Stacks.Select(st => $"{st.Slices.Count} slices {st}")));
        var stack = series.Stacks[0];
        if (stack.Problems.Count > 0) throw new DicomFormatException(scan.Root, stack.Problems[0]);
        if (stack.VolumeCount > 1 && !allowVolumes)
            throw new DicomFormatException(scan.Root,
                $"{series} holds {stack.VolumeCount} volumes at the same slice positions (echoes, time points or repeats); a single 3-D volume is needed");
        return stack;
    }

    // ------------------------------------------------------------------ assembly

    internal static List<DicomStack> BuildStacks(List<DicomInstance> members, DicomReadOptions options)
    {
        // Expand to slices.
        var slices = new List<DicomSlice>();
        foreach (var inst in members)
        {
            if (inst.Mosaic is { } m) slices.AddRange(MosaicSlices(inst, m));
            else for (int f = 0; f < inst.Frames; f++) slices.Add(new DicomSlice(inst, f, -1, inst.FramePositions[f]));
        }
        // Group by geometry: size, orientation, pixel spacing.
        var groups = new List<List<DicomSlice>>();
        foreach (var s in slices)
        {
            var g = groups.FirstOrDefault(x => SameGeometry(x[0], s));
            if (g is null) groups.Add(g = new List<DicomSlice>());
            g.Add(s);
        }
        var stacks = new List<DicomStack>();
        foreach (var g in groups) stacks.Add(BuildStack(g, options));
        return stacks.OrderByDescending(st => st.Slices.Count).ToList();
    }

    private static (int Rows, int Cols) SliceSize(DicomSlice s) =>
        s.Tile >= 0 ? (s.Instance.Mosaic!.TileRows, s.Instance.Mosaic!.TileColumns) : (s.Instance.Rows, s.Instance.Columns);

    private static bool SameGeometry(DicomSlice a, DicomSlice b)
    {
        if (SliceSize(a) != SliceSize(b)) return false;
        var oa = a.Instance.Orientation; var ob = b.Instance.Orientation;
        if ((oa is null) != (ob is null)) return false;
        if (oa is not null)
            for (int i = 0; i < 6; i++) if (Math.Abs(oa[i] - ob![i]) > OrientationTolerance) return false;
        var pa = a.Instance.PixelSpacing; var pb = b.Instance.PixelSpacing;
        if ((pa is null) != (pb is null)) return false;
        if (pa is not null)
            for (int i = 0; i < 2; i++) if (Math.Abs(pa[i] - pb![i]) > 1e-4 * Math.Max(1, Math.Abs(pa[i]))) return false;
        return true;
    }

    private static IEnumerable<DicomSlice> MosaicSlices(DicomInstance inst, SiemensMosaic m)
    {
        var ipp = inst.FramePositions[0];
        var iop = inst.Orientation;
        var ps = inst.PixelSpacing;
        double[]? first = null, step = null;
        if (ipp is not null && iop is not null && ps is not null)
        {
            // IPP is the corner of the whole mosaic; move it to the corner of one tile, centred the same way.
            double dc = (inst.Columns - m.TileColumns) / 2.0 * ps[1];
            double dr = (inst.Rows - m.TileRows) / 2.0 * ps[0];
            first = new double[3];
            for (int i = 0; i < 3; i++) first[i] = ipp[i] + iop[i] * dc + iop[3 + i] * dr;
            var n = m.SliceNormal ?? Geometry.Normal(iop);
            double gap = inst.SpacingBetweenSlices ?? inst.SliceThickness ?? 1.0;
            step = new[] { n[0] * gap, n[1] * gap, n[2] * gap };
        }
        for (int t = 0; t < m.NumberOfImages; t++)
        {
            double[]? pos = first is null ? null : new[] { first[0] + step![0] * t, first[1] + step[1] * t, first[2] + step[2] * t };
            yield return new DicomSlice(inst, 0, t, pos);
        }
    }

    private static DicomStack BuildStack(List<DicomSlice> slices, DicomReadOptions options)
    {
        var first = slices[0].Instance;
        var (rows, cols) = SliceSize(slices[0]);
        var warnings = new List<string>();
        var problems = new List<string>();
        string where = Path.GetDirectoryName(first.Path) ?? first.Path;
        var ps = first.PixelSpacing;
        if (ps is null || !(ps[0] > 0) || !(ps[1] > 0))
        {
            warnings.Add("PixelSpacing is missing or not positive: 1 mm assumed in-plane");
            ps = new[] { 1.0, 1.0 };
        }
        var iop = first.Orientation;
        bool positionsKnown = iop is not null && slices.All(s => s.Position is not null);
        if (iop is not null)
        {
            double nr = Geometry.Norm(iop.AsSpan(0, 3)), nc = Geometry.Norm(iop.AsSpan(3, 3));
            double dot = Geometry.Dot(iop.AsSpan(0, 3), iop.AsSpan(3, 3));
            if (Math.Abs(nr - 1) > 0.01 || Math.Abs(nc - 1) > 0.01 || Math.Abs(dot) > 0.01)
            {
                problems.Add(FormattableString.Invariant(
                    $"ImageOrientationPatient of {Path.GetFileName(first.Path)} is not two orthogonal unit vectors (lengths {nr:0.###}, {nc:0.###}, dot {dot:0.###})"));
                if (Geometry.Norm(Geometry.Normal(iop)) < 0.5) { iop = null; positionsKnown = false; }
            }
        }

        double[] normal = iop is not null ? Geometry.Normal(iop) : new double[] { 0, 0, 1 };
        List<DicomSlice> ordered;
        int volumes = 1;
        double[] step;
        double[] origin;
        if (positionsKnown)
        {
            // Sort by position along the normal; ties broken by acquisition/instance number for repeated volumes.
            ordered = slices
                .OrderBy(s => Math.Round(Geometry.Dot(s.Position!, normal), 4))
                .ThenBy(s => s.Instance.AcquisitionNumber ?? 0)
                .ThenBy(s => s.Instance.InstanceNumber ?? 0)
                .ThenBy(s => s.Instance.Path, StringComparer.Ordinal)
                .ThenBy(s => s.Frame).ThenBy(s => s.Tile)
                .ToList();
            var dist = ordered.Select(s => Geometry.Dot(s.Position!, normal)).ToArray();
            // Repeated positions: the stack holds several volumes.
            double extent = dist[^1] - dist[0];
            double same = Math.Max(1e-3, 1e-4 * Math.Abs(extent));
            int k = 1;
            while (k < dist.Length && Math.Abs(dist[k] - dist[0]) <= same) k++;
            if (k > 1)
            {
                bool consistent = dist.Length % k == 0;
                if (!consistent)
                    problems.Add($"{dist.Length} slices with {k} at the first position: the series mixes volumes of different lengths or has duplicate files");
                for (int i = 0; consistent && i < dist.Length; i += k)
                    for (int j = 1; j < k; j++)
                        if (Math.Abs(dist[i + j] - dist[i]) > same)
                        {
                            problems.Add(FormattableString.Invariant(
                                $"slice positions repeat {k} times at the first position but not at {dist[i]:0.###} mm: duplicate or missing files"));
                            consistent = false;
                            break;
                        }
                volumes = consistent ? k : 1;
            }
            int nz = ordered.Count / volumes;
            origin = (double[])ordered[0].Position!.Clone();
            if (nz == 1)
            {
                double thick = first.SpacingBetweenSlices ?? first.SliceThickness ?? 1.0;
                if (!(thick > 0)) thick = 1.0;
                step = new[] { normal[0] * thick, normal[1] * thick, normal[2] * thick };
            }
            else
            {
                var gaps = new double[nz - 1];
                for (int z = 0; z + 1 < nz; z++) gaps[z] = dist[(z + 1) * volumes] - dist[z * volumes];
                var sorted = (double[])gaps.Clone();
                Array.Sort(sorted);
                double median = sorted[sorted.Length / 2];
                double tol = Math.Max(0.01, options.SpacingTolerance * Math.Abs(median));
                for (int z = 0; z < gaps.Length; z++)
                {
                    if (Math.Abs(gaps[z] - median) <= tol) continue;
                    var a = ordered[z * volumes]; var b = ordered[(z + 1) * volumes];
                    double missing = gaps[z] / median - 1;
                    string msg = FormattableString.Invariant(
                        $"slices {z + 1} and {z + 2} ({a}, {b}) are {gaps[z]:0.###} mm apart where the spacing is {median:0.###} mm")
                        + (missing > 0.5 ? FormattableString.Invariant($": about {Math.Round(missing)} slice(s) missing") : ": uneven spacing");
                    if (!options.AllowIrregularSpacing) problems.Add(msg + " (allow irregular spacing to assemble it anyway)");
                    else warnings.Add(msg);
                }
                var last = ordered[(nz - 1) * volumes].Position!;
                if (options.SliceSpacing == SliceSpacingEstimate.FirstGap)
                {
                    step = new[] { normal[0] * gaps[0], normal[1] * gaps[0], normal[2] * gaps[0] };
                }
                else if (warnings.Count > 0 || problems.Count > 0)
                {
                    step = new[] { normal[0] * median, normal[1] * median, normal[2] * median };
                }
                else
                {
                    step = new double[3];
                    for (int i = 0; i < 3; i++) step[i] = (last[i] - origin[i]) / (nz - 1);
                }
                // Every slice must lie on the line origin + z·step (else the stack is not one grid).
                for (int z = 0; z < nz && problems.Count == 0 && warnings.Count == 0; z++)
                {
                    var p = ordered[z * volumes].Position!;
                    double dev = 0;
                    for (int i = 0; i < 3; i++) dev = Math.Max(dev, Math.Abs(p[i] - (origin[i] + z * step[i])));
                    if (dev > tol && options.SliceSpacing != SliceSpacingEstimate.FirstGap)
                    {
                        string msg = FormattableString.Invariant(
                            $"slice {z + 1} ({ordered[z * volumes]}) is {dev:0.###} mm off the line through the first and last slices");
                        if (!options.AllowIrregularSpacing) problems.Add(msg + " (allow irregular spacing to assemble it anyway)");
                        else warnings.Add(msg);
                        break;
                    }
                }
            }
        }
        else
        {
            // No positions: order by InstanceNumber (the only order left) and say so.
            ordered = slices.OrderBy(s => s.Instance.InstanceNumber ?? 0).ThenBy(s => s.Instance.Path, StringComparer.Ordinal).ThenBy(s => s.Frame).ToList();
            double thick = first.SpacingBetweenSlices ?? first.SliceThickness ?? 1.0;
            if (!(thick > 0)) thick = 1.0;
            if (ordered.Count > 1)
                warnings.Add(FormattableString.Invariant($"no ImagePositionPatient/ImageOrientationPatient: slices ordered by InstanceNumber and {thick:0.###} mm apart (from SliceThickness)"));
            origin = first.FramePositions[0] ?? new double[3];
            if (iop is null) iop = new double[] { 1, 0, 0, 0, 1, 0 };
            normal = Geometry.Normal(iop);
            step = new[] { normal[0] * thick, normal[1] * thick, normal[2] * thick };
        }

        int nSlices = ordered.Count / volumes;
        double sliceSpacing = Geometry.Norm(step);
        if (!(sliceSpacing > 1e-6) || !double.IsFinite(sliceSpacing))
        {
            problems.Add("slices have no spacing between them (all at one position)");
            step = new[] { normal[0], normal[1], normal[2] };
            sliceSpacing = 1;
        }
        // LPS voxel→world, then LPS→RAS by negating x and y.
        double rs = ps[1], cs = ps[0];
        var dir = iop!;
        var lin = new double[16];
        for (int i = 0; i < 3; i++)
        {
            double sign = i < 2 ? -1 : 1;
            lin[i * 4 + 0] = sign * dir[i] * rs;
            lin[i * 4 + 1] = sign * dir[3 + i] * cs;
            lin[i * 4 + 2] = sign * step[i];
            lin[i * 4 + 3] = sign * origin[i];
        }
        lin[15] = 1;
        var affine = new Affine(lin);
        var spacing = new Spacing3(rs, cs, sliceSpacing);
        if (rows <= 0 || cols <= 0 || (long)rows * cols * nSlices > Array.MaxLength)
        {
            problems.Add($"image size {cols}×{rows}×{nSlices} is not valid for a volume");
            rows = Math.Max(rows, 1); cols = Math.Max(cols, 1); nSlices = 1;
        }
        var shape = new Shape3(cols, rows, nSlices);
        return new DicomStack(null, ordered, volumes, affine, spacing, shape, warnings, options, positionsKnown, problems, where);
    }
}
