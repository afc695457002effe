using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Processing.Thresholding;

namespace BatchCohort.Imaging.Tests.Processing;

/// <summary>Threshold cases compared with scikit-image (the same bin centre, exactly).</summary>
public static class ThresholdCases
{
    public static IEnumerable<ProcessingCase> All
    {
        get
        {
            // scikit-image on ch2's native uint8 array (its integer path); checked within half a bin in GaussianTests
            yield return new("otsu_ch2_u8", "otsu", "ch2_u8", new { nbins = 256 }, _ => Array.Empty<double>(), Compare.OracleOnly);
            foreach (var input in new[] { "syn", "synint", "ch2" })
            {
                yield return new($"otsu_{input}", "otsu", input, new { nbins = 256 },
                    i => ProcessingOracle.D(Thresholds.Otsu(i[input])), Compare.Exact);
                yield return new($"triangle_{input}", "triangle", input, new { nbins = 256 },
                    i => ProcessingOracle.D(Thresholds.Triangle(i[input])), Compare.Exact);
                yield return new($"triangle_{input}_nb100", "triangle", input, new { nbins = 100 },
                    i => ProcessingOracle.D(Thresholds.Triangle(i[input], nbins: 100)), Compare.Exact);
                yield return new($"isodata_{input}", "isodata", input, new { nbins = 256 },
                    i => ProcessingOracle.D(Thresholds.Isodata(i[input])), Compare.Exact);
                yield return new($"itermean_{input}", "itermean", input, new { },
                    i => ProcessingOracle.D(Thresholds.IterativeMean(i[input])), Compare.Close);
                yield return new($"otsu_{input}_nb64", "otsu", input, new { nbins = 64 },
                    i => ProcessingOracle.D(Thresholds.Otsu(i[input], nbins: 64)), Compare.Exact);
            }
            foreach (var (m, s) in new[] { (BoundaryMode.Reflect, "reflect"), (BoundaryMode.Constant, "constant"), (BoundaryMode.Wrap, "wrap") })
            {
                yield return new($"local_gauss_syn_{s}", "local", "syn", new { block_size = new[] { 5, 7, 3 }, method = "gaussian", offset = 12.5, mode = s, cval = 3.0 },
                    i => ProcessingOracle.D(Thresholds.Local(i["syn"], new Size3(5, 7, 3), LocalMethod.Gaussian, offset: 12.5, mode: m, cval: 3.0)));
                yield return new($"local_mean_syn_{s}", "local", "syn", new { block_size = new[] { 3, 5, 9 }, method = "mean", offset = -4.0, mode = s, cval = 3.0 },
                    i => ProcessingOracle.D(Thresholds.Local(i["syn"], new Size3(3, 5, 9), LocalMethod.Mean, offset: -4.0, mode: m, cval: 3.0)));
            }
            yield return new("local_gauss_ch2crop", "local", "ch2crop", new { block_size = new[] { 15, 11, 7 }, method = "gaussian" },
                i => ProcessingOracle.D(Thresholds.Local(i["ch2crop"], new Size3(15, 11, 7))));
            yield return new("local_mean_ch2crop", "local", "ch2crop", new { block_size = 15, method = "mean", offset = 5.0 },
                i => ProcessingOracle.D(Thresholds.Local(i["ch2crop"], 15, LocalMethod.Mean, offset: 5.0)));
        }
    }
}
