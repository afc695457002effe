using BatchCohort.Imaging.Processing;
using System.Globalization;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Exposure;

namespace BatchCohort.Imaging.Qc;

/// <summary>
/// A mask or label map drawn as outlines on a snapshot. Zero is outside. An overlay with at most 32 distinct
/// non-negative integer values is a label map (one outline colour per label); anything else — a binary mask, a
/// skull-stripped image, a probability map — is outlined as one region, its non-zero voxels.
/// </summary>
/// <param name="Labels">any grid: it is sampled through world coordinates (nearest neighbour), so it need not share the image's grid.</param>
/// <param name="Color">outline colour for a binary mask; null picks one from the palette (label maps always use the palette).</param>
public sealed record SnapshotOverlay(Volume Labels, (byte R, byte G, byte B)? Color = null, string? Name = null);

/// <summary>Settings of <see cref="Snapshot.Render"/>.</summary>
public sealed record SnapshotOptions
{
    /// <summary>The point (world RAS mm) the three slices pass through; null = the centre of the grid.</summary>
    public (double X, double Y, double Z)? WorldPoint { get; init; }
    /// <summary>Millimetres per output pixel (square pixels); null = the longest side of the field of view spans <see cref="Snapshot.DefaultTilePixels"/> pixels.</summary>
    public double? PixelMm { get; init; }
    /// <summary>Intensity window from these percentiles of the non-background voxels.</summary>
    public double LowPercentile { get; init; } = 0.5;
    public double HighPercentile { get; init; } = 99.5;
    /// <summary>Text on the title bar (e.g. the file name); null = none.</summary>
    public string? Title { get; init; }
}

/// <summary>Where one view sits in the picture and how it maps to millimetres.</summary>
public sealed record SnapshotTile(string View, int X, int Y, int Width, int Height, double PixelMm, double WidthMm, double HeightMm, double SliceWorldMm);

public sealed record SnapshotResult(RgbImage Image, IReadOnlyList<SnapshotTile> Tiles, double WindowLow, double WindowHigh);

/// <summary>
/// A QC picture: axial, coronal and sagittal slices through one point, side by side, in radiological display
/// convention (the patient's right on the viewer's left; anterior up in axial, superior up in coronal and sagittal,
/// anterior on the left in sagittal), each view resampled to square pixels so anisotropic voxels keep their true
/// aspect. The volume is first reoriented to RAS by exact axis flips/permutations, so any stored orientation
/// (LAS, LSA, LPS…) gives the same picture. Intensities are windowed between robust percentiles; masks and label
/// maps are drawn as one-pixel coloured outlines.
/// </summary>
public static class Snapshot
{
    private static readonly (byte R, byte G, byte B)[] Palette =
    {
        (255, 48, 48), (48, 230, 48), (40, 200, 255), (255, 220, 0), (255, 64, 255), (255, 140, 0), (150, 110, 255), (0, 255, 170),
    };

    /// <summary>Pixels along the longest side of the field of view when no pixel size is given.</summary>
    public const int DefaultTilePixels = 320;

    private const int Gap = 14, Margin = 14, TitleHeight = 22, CaptionHeight = 16;
    private static readonly (byte, byte, byte) Background = (0, 0, 0);
    private static readonly (byte, byte, byte) TextColor = (255, 255, 160);

    public static SnapshotResult Render(Volume volume, IReadOnlyList<SnapshotOverlay>? overlays = null, SnapshotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        var o = options ?? new SnapshotOptions();
        if (!(o.LowPercentile >= 0 && o.LowPercentile < o.HighPercentile && o.HighPercentile <= 100))
            throw new ArgumentException($"percentiles must satisfy 0 ≤ low < high ≤ 100, got {o.LowPercentile} and {o.HighPercentile}");
        if (o.PixelMm is { } pm && !(pm > 0.05 && pm < 50))
            throw new ArgumentException($"pixel size must be within 0.05–50 mm, got {pm}");
        overlays ??= Array.Empty<SnapshotOverlay>();

        var ras = volume.Reorient("RAS");
        var sh = ras.Shape;
        var sp = ras.Spacing;
        var inv = ras.Affine.Inverse();
        (double I, double J, double K) c;
        if (o.WorldPoint is { } w)
        {
            var v = inv.Apply(w.X, w.Y, w.Z);
            c = (v.X, v.Y, v.Z);
            if (v.X < -0.5 || v.X > sh.X - 0.5 || v.Y < -0.5 || v.Y > sh.Y - 0.5 || v.Z < -0.5 || v.Z > sh.Z - 0.5)
                throw new ArgumentException(FormattableString.Invariant($"point ({w.X:0.#}, {w.Y:0.#}, {w.Z:0.#}) mm lies outside the image"));
        }
        else c = ((sh.X - 1) / 2.0, (sh.Y - 1) / 2.0, (sh.Z - 1) / 2.0);

        var (lo, hi) = Window(ras.Data, o.LowPercentile, o.HighPercentile);

        double[] ext = { sh.X * sp.X, sh.Y * sp.Y, sh.Z * sp.Z };
        double longest = Math.Max(ext[0], Math.Max(ext[1], ext[2]));
        double pixel = o.PixelMm ?? longest / DefaultTilePixels;
        // keep tiles reasonable even for odd inputs
        pixel = Math.Max(pixel, longest / 2048.0);

        var ovl = overlays.Select((ov, idx) => new OverlaySampler(ov, idx)).ToArray();

        // Views: (name, horizontal axis, flip horizontal (i.e. left = positive end), vertical axis, fixed axis)
        var views = new[]
        {
            new View("AXIAL", 0, true, 1, 2, "R", "L", "A", "P"),
            new View("CORONAL", 0, true, 2, 1, "R", "L", "S", "I"),
            new View("SAGITTAL", 1, true, 2, 0, "A", "P", "S", "I"),
        };
        var tiles = new List<(View V, RgbImage Img, double Slice)>();
        foreach (var v in views)
        {
            var img = RenderView(ras, v, c, pixel, lo, hi, ovl, ext);
            var wpt = ras.Affine.Apply(c.I, c.J, c.K);
            double sliceWorld = v.Fixed == 0 ? wpt.X : v.Fixed == 1 ? wpt.Y : wpt.Z;
            tiles.Add((v, img, sliceWorld));
        }

        int tileH = tiles.Max(t => t.Img.Height);
        int width = Margin * 2 + tiles.Sum(t => t.Img.Width) + Gap * (tiles.Count - 1);
        int titleH = o.Title is null ? 0 : TitleHeight;
        int height = titleH + Margin + tileH + CaptionHeight + Margin / 2;
        int minWidth = RgbImage.TextWidth(o.Title ?? "", 2) + 2 * Margin;
        width = Math.Max(width, minWidth);
        var canvas = new RgbImage(width, height, Background);
        if (o.Title is not null) canvas.DrawText(Sanitize(o.Title), Margin, 5, TextColor, 2, shadow: false);

        var placed = new List<SnapshotTile>();
        int x = (width - (tiles.Sum(t => t.Img.Width) + Gap * (tiles.Count - 1))) / 2;
        foreach (var (v, img, slice) in tiles)
        {
            int y = titleH + Margin + (tileH - img.Height) / 2;
            canvas.Blit(img, x, y);
            DrawOrientationLabels(canvas, v, x, y, img.Width, img.Height);
            string caption = v.Name + " " + AxisName(v.Fixed) + "=" + slice.ToString("0.0", CultureInfo.InvariantCulture) + " MM";
            canvas.DrawText(caption, x + Math.Max(0, (img.Width - RgbImage.TextWidth(caption)) / 2), titleH + Margin + tileH + 5, TextColor, 1, shadow: false);
            double wMm = ext[v.Horizontal], hMm = ext[v.Vertical];
            placed.Add(new SnapshotTile(v.Name.ToLowerInvariant(), x, y, img.Width, img.Height, pixel, wMm, hMm, slice));
            x += img.Width + Gap;
        }
        return new SnapshotResult(canvas, placed, lo, hi);
    }

    private static string AxisName(int worldAxis) => worldAxis switch { 0 => "X", 1 => "Y", _ => "Z" };

    private static string Sanitize(string s) =>
        new(s.Select(ch => ch is >= ' ' and <= '~' || ch == '×' ? ch : '?').ToArray());

    private sealed record View(string Name, int Horizontal, bool LeftIsPositive, int Vertical, int Fixed, string LeftLabel, string RightLabel, string TopLabel, string BottomLabel);

    private static RgbImage RenderView(Volume ras, View v, (double I, double J, double K) c, double pixel, double lo, double hi, OverlaySampler[] ovl, double[] ext)
    {
        int w = Math.Max(1, (int)Math.Round(ext[v.Horizontal] / pixel));
        int h = Math.Max(1, (int)Math.Round(ext[v.Vertical] / pixel));
        var sh = ras.Shape;
        var sp = ras.Spacing;
        double scale = 255.0 / Math.Max(hi - lo, 1e-12);
        var img = new RgbImage(w, h);
        var labels = ovl.Length > 0 ? new int[ovl.Length][] : null;
        if (labels is not null) for (int k = 0; k < ovl.Length; k++) labels[k] = new int[w * h];
        double pxH = ext[v.Horizontal] / w, pxV = ext[v.Vertical] / h; // exact pitch after rounding
        Parallelism.For(0, h, py =>
        {
            Span<double> idx = stackalloc double[3];
            for (int px = 0; px < w; px++)
            {
                // mm from the positive end (left) or negative end, then to voxel coordinates
                double uh = (px + 0.5) * pxH, uv = (py + 0.5) * pxV;
                double ih = uh / sp[v.Horizontal] - 0.5;
                if (v.LeftIsPositive) ih = sh[v.Horizontal] - 1 - ih;
                double iv = sh[v.Vertical] - 1 - (uv / sp[v.Vertical] - 0.5); // top = positive (A or S)
                idx[v.Horizontal] = ih;
                idx[v.Vertical] = iv;
                idx[v.Fixed] = v.Fixed == 0 ? c.I : v.Fixed == 1 ? c.J : c.K;
                double val = Trilinear(ras, idx[0], idx[1], idx[2]);
                byte g = (byte)Math.Clamp((int)Math.Round((val - lo) * scale), 0, 255);
                img[px, py] = (g, g, g);
                if (labels is not null)
                {
                    var wp = ras.Affine.Apply(idx[0], idx[1], idx[2]);
                    for (int k = 0; k < ovl.Length; k++) labels[k][py * w + px] = ovl[k].Sample(wp.X, wp.Y, wp.Z);
                }
            }
        });
        if (labels is not null)
        {
            for (int k = 0; k < ovl.Length; k++)
            {
                var lab = labels[k];
                for (int py = 0; py < h; py++)
                    for (int px = 0; px < w; px++)
                    {
                        int l = lab[py * w + px];
                        if (l == 0) continue;
                        bool edge = px == 0 || py == 0 || px == w - 1 || py == h - 1
                            || lab[py * w + px - 1] != l || lab[py * w + px + 1] != l || lab[(py - 1) * w + px] != l || lab[(py + 1) * w + px] != l;
                        if (edge) img[px, py] = ovl[k].ColorOf(l);
                    }
            }
        }
        return img;
    }

    private static void DrawOrientationLabels(RgbImage canvas, View v, int x, int y, int w, int h)
    {
        var col = TextColor;
        int s = 1;
        int cw = RgbImage.TextWidth("X", s), ch = 7 * s;
        canvas.DrawText(v.LeftLabel, x + 3, y + (h - ch) / 2, col, s);
        canvas.DrawText(v.RightLabel, x + w - cw - 2, y + (h - ch) / 2, col, s);
        canvas.DrawText(v.TopLabel, x + (w - cw) / 2, y + 3, col, s);
        canvas.DrawText(v.BottomLabel, x + (w - cw) / 2, y + h - ch - 3, col, s);
    }

    /// <summary>Trilinear interpolation at voxel coordinates; outside the grid the nearest edge value is used within half a voxel, zero beyond.</summary>
    private static double Trilinear(Volume vol, double x, double y, double z)
    {
        var s = vol.Shape;
        if (x < -0.5 || y < -0.5 || z < -0.5 || x > s.X - 0.5 || y > s.Y - 0.5 || z > s.Z - 0.5) return 0;
        x = Math.Clamp(x, 0, s.X - 1); y = Math.Clamp(y, 0, s.Y - 1); z = Math.Clamp(z, 0, s.Z - 1);
        int x0 = Math.Min((int)x, Math.Max(s.X - 2, 0)), y0 = Math.Min((int)y, Math.Max(s.Y - 2, 0)), z0 = Math.Min((int)z, Math.Max(s.Z - 2, 0));
        int x1 = Math.Min(x0 + 1, s.X - 1), y1 = Math.Min(y0 + 1, s.Y - 1), z1 = Math.Min(z0 + 1, s.Z - 1);
        double fx = x - x0, fy = y - y0, fz = z - z0;
        var d = vol.Data;
        double v000 = d[s.Index(x0, y0, z0)], v100 = d[s.Index(x1, y0, z0)], v010 = d[s.Index(x0, y1, z0)], v110 = d[s.Index(x1, y1, z0)];
        double v001 = d[s.Index(x0, y0, z1)], v101 = d[s.Index(x1, y0, z1)], v011 = d[s.Index(x0, y1, z1)], v111 = d[s.Index(x1, y1, z1)];
        double a = v000 + fx * (v100 - v000), b = v010 + fx * (v110 - v010);
        double e = v001 + fx * (v101 - v001), f = v011 + fx * (v111 - v011);
        double p = a + fy * (b - a), q = e + fy * (f - e);
        return p + fz * (q - p);
    }

    /// <summary>Robust window: the given percentiles of the voxels above the image's minimum (the background fill is ignored).</summary>
    internal static (double Lo, double Hi) Window(float[] data, double lowPct, double highPct)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in data)
        {
            if (float.IsNaN(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        if (float.IsPositiveInfinity(min)) return (0, 1);
        if (max <= min) return (min, min + 1);
        // sample deterministically (at most ~2M values) among the voxels above the minimum
        int stride = Math.Max(1, data.Length / 2_000_000);
        var sample = new List<float>(Math.Min(data.Length, 2_000_000) + 1);
        for (int i = 0; i < data.Length; i += stride)
        {
            float v = data[i];
            if (v > min && !float.IsNaN(v)) sample.Add(v);
        }
        if (sample.Count == 0) return (min, max);
        sample.Sort();
        double Pct(double p)
        {
            double pos = p / 100.0 * (sample.Count - 1);
            int i0 = (int)Math.Floor(pos);
            int i1 = Math.Min(i0 + 1, sample.Count - 1);
            return sample[i0] + (pos - i0) * (sample[i1] - sample[i0]);
        }
        double lo = lowPct > 0 ? Pct(lowPct) : min;
        double hi = Pct(highPct);
        if (hi <= lo) (lo, hi) = (min, max); // a flat foreground: show it bright on the background
        return (lo, hi);
    }

    private sealed class OverlaySampler
    {
        /// <summary>More distinct values than this and an overlay is drawn as the outline of its non-zero region.</summary>
        private const int MaxLabels = 32;

        private readonly Volume _v;
        private readonly Affine _worldToVox;
        private readonly (byte R, byte G, byte B)? _color;
        private readonly int _index;
        private readonly bool _binary;

        public OverlaySampler(SnapshotOverlay o, int index)
        {
            _v = o.Labels;
            _worldToVox = o.Labels.Affine.Inverse();
            _color = o.Color;
            _index = index;
            // A label map has a few integer values; anything else (a binary mask, a probability map, a skull-stripped
            // image) is outlined as one region: its non-zero voxels.
            var distinct = new HashSet<float>();
            bool labelMap = true;
            foreach (var x in _v.Data)
            {
                if (x == 0) continue;
                if (x != MathF.Round(x) || x < 0) { labelMap = false; break; }
                if (distinct.Add(x) && distinct.Count > MaxLabels) { labelMap = false; break; }
            }
            _binary = !labelMap || distinct.Count <= 1;
        }

        public int Sample(double wx, double wy, double wz)
        {
            var p = _worldToVox.Apply(wx, wy, wz);
            int i = (int)Math.Round(p.X), j = (int)Math.Round(p.Y), k = (int)Math.Round(p.Z);
            if (!_v.Shape.Contains(i, j, k)) return 0;
            float val = _v.Data[_v.Shape.Index(i, j, k)];
            if (_binary) return val != 0 && !float.IsNaN(val) ? 1 : 0;
            return (int)val;
        }

        public (byte R, byte G, byte B) ColorOf(int label)
        {
            if (_binary) return _color ?? Palette[_index % Palette.Length];
            int k = (label - 1 + _index) % Palette.Length;
            if (k < 0) k += Palette.Length;
            return Palette[k];
        }
    }
}
