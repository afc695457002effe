using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Exposure;

namespace BatchCohort.Imaging.Tests.Processing;

/// <summary>Intensity cases compared with scipy.ndimage.histogram, skimage.exposure and numpy.percentile.</summary>
public static class IntensityCases
{
    /// <summary>Labels 0..4 on the synthetic grid: (x + 2y + 3z) mod 5.</summary>
    public static LabelMap SynLabels(Volume like)
    {
        var s = like.Shape;
        var d = new int[s.Count];
        for (int z = 0; z < s.Z; z++) for (int y = 0; y < s.Y; y++) for (int x = 0; x < s.X; x++) d[s.Index(x, y, z)] = (x + 2 * y + 3 * z) % 5;
        return new LabelMap(s, d, like.Affine, like.Spacing);
    }

    /// <summary>Mask of the synthetic volume's brighter voxels (value &gt; 300).</summary>
    public static Mask SynMask(Volume v) => Mask.GreaterThan(v, 300);

    public static IEnumerable<(string Name, double[] Data, int[] Shape)> Arrays
    {
        get
        {
            var syn = ProcessingInputs.Synthetic();
            var s = syn.Shape;
            yield return ("labels_syn", Array.ConvertAll(SynLabels(syn).Data, x => (double)x), new[] { s.X, s.Y, s.Z });
            yield return ("mask_syn", Array.ConvertAll(SynMask(syn).Data, x => (double)x), new[] { s.X, s.Y, s.Z });
        }
    }

    private static Dictionary<string, string> A(params (string K, string V)[] kv) => kv.ToDictionary(p => p.K, p => p.V);

    private static double[] Flat(long[][] h) => h.SelectMany(r => r.Select(x => (double)x)).ToArray();

    private static double[] Cat(long[] a, float[] b) => a.Select(x => (double)x).Concat(b.Select(x => (double)x)).ToArray();

    private static double[] Cat(float[] a, float[] b) => a.Select(x => (double)x).Concat(b.Select(x => (double)x)).ToArray();

    public static IEnumerable<ProcessingCase> All
    {
        get
        {
            // scipy.ndimage.histogram: all voxels, labels > 0, per index (with a label that does not occur: 7)
            yield return new("hist_syn", "histogram", "syn", new { min = 100.0, max = 700.0, bins = 37 },
                i => Intensity.Histogram(i["syn"], 100, 700, 37).Select(x => (double)x).ToArray(), Compare.Exact);
            yield return new("hist_synint_edges", "histogram", "synint", new { min = 0.0, max = 255.0, bins = 51 },   // values on bin edges
                i => Intensity.Histogram(i["synint"], 0, 255, 51).Select(x => (double)x).ToArray(), Compare.Exact);
            yield return new("hist_syn_labels", "histogram", "syn", new { min = 0.0, max = 1000.0, bins = 20 },
                i => Flat(Intensity.Histogram(i["syn"], 0, 1000, 20, SynLabels(i["syn"]))), Compare.Exact, A(("labels", "labels_syn")));
            yield return new("hist_syn_index", "histogram", "syn", new { min = 0.0, max = 1000.0, bins = 20, index = new[] { 3, 1, 7, 0 } },
                i => Flat(Intensity.Histogram(i["syn"], 0, 1000, 20, SynLabels(i["syn"]), new[] { 3, 1, 7, 0 })), Compare.Exact, A(("labels", "labels_syn")));
            foreach (var input in new[] { "syn", "synint", "ch2" })
            {
                yield return new($"exposure_hist_{input}", "exposure_hist", input, new { nbins = 256 },
                    i => { var (c, b) = Intensity.ExposureHistogram(i[input]); return Cat(c, b); }, Compare.Exact);
                yield return new($"cdf_{input}", "cdf", input, new { nbins = 100 },
                    i => { var (c, b) = Intensity.CumulativeDistribution(i[input], 100); return Cat(c, b); }, Compare.Exact);
                yield return new($"equalize_{input}", "equalize", input, new { nbins = 256 },
                    i => ProcessingOracle.D(Intensity.EqualizeHist(i[input])), Compare.Exact);
                yield return new($"percentile_{input}", "percentile", input, new { q = new[] { 0.0, 2.0, 37.3, 50.0, 98.0, 99.99, 100.0 } },
                    i => Intensity.Percentile(i[input], 0.0, 2.0, 37.3, 50.0, 98.0, 99.99, 100.0), Compare.Close);
                yield return new($"rescale_{input}", "rescale", input, new { },
                    i => ProcessingOracle.D(Intensity.RescaleIntensity(i[input])), Compare.Exact);
                yield return new($"rescale_pct_{input}", "rescale", input, new { in_range = new { percentiles = new[] { 2.0, 98.0 } }, out_range = new[] { 0.0, 255.0 } },
                    i => ProcessingOracle.D(Intensity.RescaleIntensity(i[input], IntensityRange.Percentiles(2, 98), IntensityRange.Of(0, 255))), Compare.Exact);
            }
            yield return new("equalize_syn_mask", "equalize", "syn", new { nbins = 64 },
                i => ProcessingOracle.D(Intensity.EqualizeHist(i["syn"], 64, SynMask(i["syn"]))), Compare.Exact, A(("mask", "mask_syn")));
            yield return new("rescale_syn_explicit", "rescale", "syn", new { in_range = new[] { 150.5, 600.25 }, out_range = new[] { -3.0, 7.0 } },
                i => ProcessingOracle.D(Intensity.RescaleIntensity(i["syn"], IntensityRange.Of(150.5, 600.25), IntensityRange.Of(-3, 7))), Compare.Exact);
            yield return new("rescale_syn_out_image", "rescale", "syn", new { in_range = new[] { 0.0, 100.0 }, out_range = "image" },
                i => ProcessingOracle.D(Intensity.RescaleIntensity(i["syn"], IntensityRange.Of(0, 100), IntensityRange.Image)), Compare.Exact);
            yield return new("rescale_syn_degenerate", "rescale", "syn", new { in_range = new[] { 300.0, 300.0 }, out_range = new[] { 250.0, 400.0 } },
                i => ProcessingOracle.D(Intensity.RescaleIntensity(i["syn"], IntensityRange.Of(300, 300), IntensityRange.Of(250, 400))), Compare.Exact);
            yield return new("percentile_tiny", "percentile", "tiny", new { q = new[] { 0.0, 10.0, 33.3, 50.0, 66.7, 100.0 } },
                i => Intensity.Percentile(i["tiny"], 0.0, 10.0, 33.3, 50.0, 66.7, 100.0), Compare.Close);
        }
    }
}
