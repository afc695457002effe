using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Filtering;

namespace BatchCohort.Imaging.Tests.Processing;

public sealed class MedianTests
{
    [Fact]
    public void SelectionNetworkPicksTheRankOfASortForEverySizeUpTo128()
    {
        var rng = new Random(5);
        for (int n = 1; n <= 128; n++)
        {
            var ranks = n <= 12 ? Enumerable.Range(0, n) : new[] { 0, n / 2, n - 1, n / 3 };
            foreach (int r in ranks)
            {
                var net = SelectionNetwork.For(n, r);
                for (int trial = 0; trial < 20; trial++)
                {
                    // few distinct values on half the trials, to exercise ties
                    var a = Enumerable.Range(0, n).Select(_ => trial % 2 == 0 ? (float)rng.NextDouble() : rng.Next(4)).ToArray();
                    var sorted = a.OrderBy(v => v).ToArray();
                    Assert.Equal(sorted[r], net.Select(a));
                }
            }
        }
        // the network for the 3×3×3 median is far smaller than a sort
        Assert.True(SelectionNetwork.For(27, 13).Comparators.Length < 200, $"{SelectionNetwork.For(27, 13).Comparators.Length} comparators");
    }

    [Fact]
    public void QuickSelectMatchesSort()
    {
        var rng = new Random(9);
        for (int n = 1; n < 300; n += 7)
        {
            var a = Enumerable.Range(0, n).Select(_ => (float)rng.Next(50)).ToArray();
            var sorted = a.OrderBy(v => v).ToArray();
            for (int k = 0; k < n; k += Math.Max(1, n / 5))
                Assert.Equal(sorted[k], Filters.QuickSelect(a.ToArray(), k));
        }
    }

    [Fact]
    public void MedianRemovesSaltNoiseAndKeepsAStep()
    {
        // known truth: an isolated spike disappears, a flat step edge is preserved exactly
        var v = Volume.Zeros(new Shape3(20, 9, 7), new Spacing3(1, 1, 1));
        for (int z = 0; z < 7; z++) for (int y = 0; y < 9; y++) for (int x = 10; x < 20; x++) v[x, y, z] = 100;
        var clean = v.Clone();
        v[4, 4, 3] = 1e6f;
        var m = Filters.MedianFilter(v, 3);
        Assert.Equal(clean.Data, m.Data);
    }

    [Fact]
    public void BadSizesAndOriginsAreRejected()
    {
        var v = ProcessingInputs.Synthetic(7, 6, 5);
        Assert.Equal("size", Assert.ThrowsAny<ArgumentException>(() => Filters.MedianFilter(v, 0)).ParamName);
        Assert.Equal("size", Assert.ThrowsAny<ArgumentException>(() => Filters.MedianFilter(v, new Size3(3, -1, 3))).ParamName);
        Assert.Equal("origin", Assert.ThrowsAny<ArgumentException>(() => Filters.MedianFilter(v, 3, origin: new Offset3(2, 0, 0))).ParamName);
        Assert.Equal("size", Assert.ThrowsAny<ArgumentException>(() => Filters.UniformFilter(v, new Size3(3, 0, 3))).ParamName);
        Assert.Equal("origin", Assert.ThrowsAny<ArgumentException>(() => Filters.UniformFilter(v, 4, origin: new Offset3(0, -3, 0))).ParamName);
        Assert.Equal("axis", Assert.ThrowsAny<ArgumentException>(() => Filters.Sobel(v, 3)).ParamName);
        Assert.Equal("weights", Assert.ThrowsAny<ArgumentException>(() => Filters.Convolve(v, new double[0, 3, 3])).ParamName);
        Assert.Equal("weights", Assert.ThrowsAny<ArgumentException>(() => Filters.Convolve(v, new double[,,] { { { double.NaN } } })).ParamName);
        Assert.Equal("origin", Assert.ThrowsAny<ArgumentException>(() => Filters.Correlate(v, new double[3, 3, 3], origin: new Offset3(0, 0, 2))).ParamName);
        Assert.Equal("sigma", Assert.ThrowsAny<ArgumentException>(() => Filters.GaussianLaplace(v, -2.0)).ParamName);
        Assert.Equal("sigma", Assert.ThrowsAny<ArgumentException>(() => Filters.GaussianGradientMagnitude(v, double.NaN)).ParamName);
        var nan = v.Clone();
        nan.Data[17] = float.NaN;
        foreach (var f in new Action[]
                 {
                     () => Filters.MedianFilter(nan, 3), () => Filters.UniformFilter(nan, 3), () => Filters.Sobel(nan, 0),
                     () => Filters.Laplace(nan), () => Filters.GradientMagnitude(nan), () => Filters.Convolve(nan, new double[3, 3, 3]),
                 })
            Assert.Contains("NaN", Assert.ThrowsAny<ArgumentException>(f).Message);
    }
}
