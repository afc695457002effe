using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Exposure;
using BatchCohort.Imaging.Processing.Thresholding;

namespace BatchCohort.Imaging.Tests.Processing;

public sealed class IntensityThresholdTests
{
    private static Volume Small() => ProcessingInputs.Synthetic(7, 6, 5);

    private static void Throws(string param, string fragment, Action a)
    {
        var e = Assert.ThrowsAny<ArgumentException>(a);
        Assert.Equal(param, e.ParamName);
        Assert.Contains(fragment, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void BadArgumentsNameTheArgument()
    {
        var v = Small();
        Throws("max", "greater", () => Intensity.Histogram(v, 5, 5, 10));
        Throws("bins", "bins", () => Intensity.Histogram(v, 0, 5, 0));
        Throws("min", "finite", () => Intensity.Histogram(v, double.NaN, 5, 10));
        var otherShape = Volume.Zeros(new Shape3(7, 6, 4), new Spacing3(1, 1, 1));
        Throws("labels", "does not match", () => Intensity.Histogram(v, 0, 1000, 10, Mask.NonZero(otherShape)));
        Throws("index", "empty", () => Intensity.Histogram(v, 0, 1000, 10, IntensityCases.SynLabels(v), Array.Empty<int>()));
        Throws("q", "[0, 100]", () => Intensity.Percentile(v, 101));
        Throws("q", "[0, 100]", () => Intensity.Percentile(v, double.NaN));
        Throws("data", "empty", () => Intensity.Percentile(Array.Empty<float>(), 50));
        Throws("inRange", "min > max", () => Intensity.RescaleIntensity(v, IntensityRange.Of(5, 1)));
        Throws("inRange", "percentiles", () => Intensity.RescaleIntensity(v, IntensityRange.Percentiles(98, 2)));
        Throws("outRange", "percentiles", () => Intensity.RescaleIntensity(v, outRange: IntensityRange.Percentiles(2, 98)));
        Throws("mask", "empty", () => Intensity.EqualizeHist(v, mask: Mask.Zeros(v.Shape, v.Spacing)));
        Throws("mask", "does not match", () => Intensity.EqualizeHist(v, mask: Mask.Zeros(otherShape.Shape, v.Spacing)));
        Throws("blockSize", "odd", () => Thresholds.Local(v, new Size3(5, 4, 5)));
        Throws("blockSize", "≥ 1", () => Thresholds.Local(v, 0));
        Throws("nbins", "≥ 1", () => Thresholds.Triangle(v, 0));
        Throws("maxIterations", "≥ 1", () => Thresholds.IterativeMean(v, 0));
    }

    [Fact]
    public void NanInTheDataIsRejectedByEveryIntensityAndThresholdOperation()
    {
        var v = Small();
        v[1, 2, 3] = float.NaN;
        foreach (var f in new Action[]
                 {
                     () => Intensity.Histogram(v, 0, 1000, 10), () => Intensity.Percentile(v, 50), () => Intensity.RescaleIntensity(v),
                     () => Intensity.EqualizeHist(v), () => Intensity.CumulativeDistribution(v), () => Thresholds.Otsu(v),
                     () => Thresholds.Triangle(v), () => Thresholds.Isodata(v), () => Thresholds.IterativeMean(v), () => Thresholds.Local(v, 3),
                 })
            Assert.Contains("NaN", Assert.ThrowsAny<ArgumentException>(f).Message);
    }

    [Fact]
    public void PercentileKnownValues()
    {
        // numpy: np.percentile([1, 2, 3, 4], [0, 25, 50, 100]) = [1, 1.75, 2.5, 4]; negative zero and negatives order right
        var d = new float[] { 4, 1, 3, 2 };
        Assert.Equal(new[] { 1.0, 1.75, 2.5, 4.0 }, Intensity.Percentile(d, 0, 25, 50, 100));
        var e = new float[] { -0.0f, -5, 3, -1e-30f, 1e30f, -1e30f, 0 };
        Assert.Equal(new[] { (double)-1e30f, -5.0, (double)-1e-30f, 0.0, 0.0, 3.0, (double)1e30f }, Enumerable.Range(0, 7).Select(k => Intensity.Percentile(e, new[] { k * 100.0 / 6 })[0]).ToArray());
    }

    [Fact]
    public void IterativeMeanOfTwoSeparatedClustersLiesBetweenThem()
    {
        var v = Volume.Zeros(new Shape3(10, 10, 10), new Spacing3(1, 1, 1));
        for (int i = 0; i < v.Data.Length; i++) v.Data[i] = i % 3 == 0 ? 200 + i % 7 : 20 + i % 5;
        double t = Thresholds.IterativeMean(v);
        Assert.InRange(t, 30, 195);
        // it is a fixed point of the iteration
        var d = v.Data.Select(x => (double)x).ToArray();
        double m0 = d.Where(x => x <= t).Average(), m1 = d.Where(x => x > t).Average();
        Assert.Equal(t, (m0 + m1) / 2, 9);
    }

    [Fact]
    public void HistogramOfALabelThatDoesNotOccurIsZeros()
    {
        // scipy returns None for such a label; we return an all-zero histogram (documented)
        var v = Small();
        var h = Intensity.Histogram(v, 0, 1000, 8, IntensityCases.SynLabels(v), new[] { 42 });
        Assert.All(h[0], c => Assert.Equal(0, c));
    }
}
