using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Filtering;
using BatchCohort.Imaging.Processing.Thresholding;

namespace BatchCohort.Imaging.Tests.Processing;

/// <summary>Bad arguments give an ArgumentException naming the argument and the problem — never a wrong result.</summary>
public sealed class BadInputTests
{
    private static Volume Small() => ProcessingInputs.Synthetic(7, 6, 5);

    private static void Throws(string param, string fragment, Action a)
    {
        var e = Assert.ThrowsAny<ArgumentException>(a);
        Assert.Equal(param, e.ParamName);
        Assert.Contains(fragment, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void GaussianRejectsNegativeNanInfiniteSigma()
    {
        Throws("sigma", "≥ 0", () => Filters.GaussianFilter(Small(), -1.0));
        Throws("sigma", "axis 1", () => Filters.GaussianFilter(Small(), new Vec3(1, -0.5, 1)));
        Throws("sigma", "NaN", () => Filters.GaussianFilter(Small(), double.NaN));
        Throws("sigma", "finite", () => Filters.GaussianFilter(Small(), double.PositiveInfinity));
        Throws("truncate", "positive", () => Filters.GaussianFilter(Small(), 1.0, truncate: 0));
        Throws("order", "order", () => Filters.GaussianFilter(Small(), 1.0, order: new Order3(0, -1, 0)));
        Throws("sigma", "absurd", () => Filters.GaussianFilter(Small(), 1e9));
        Throws("cval", "finite", () => Filters.GaussianFilter(Small(), 1.0, mode: BoundaryMode.Constant, cval: double.NaN));
        Throws("mode", "unknown", () => Filters.GaussianFilter(Small(), 1.0, mode: (BoundaryMode)42));
    }

    [Fact]
    public void NanOrInfInDataIsRejectedNamingTheVoxel()
    {
        var v = Small();
        v[3, 2, 4] = float.NaN;
        Throws("input", "NaN at voxel (3, 2, 4)", () => Filters.GaussianFilter(v, 1.0));
        Throws("data", "NaN", () => Thresholds.Otsu(v));
        var w = Small();
        w[6, 5, 4] = float.NegativeInfinity; // the very last voxel (scalar tail of the vectorised scan)
        Throws("input", "-Inf at voxel (6, 5, 4)", () => Filters.GaussianFilter(w, 1.0));
    }

    [Fact]
    public void OutputOfAnotherShapeOrAliasingTheInputIsRejected()
    {
        var v = Small();
        Throws("output", "does not match", () => Filters.GaussianFilter(v, 1.0, output: Volume.Zeros(new Shape3(7, 6, 4), new Spacing3(1, 1, 1))));
        Throws("output", "share", () => Filters.GaussianFilter(v, 1.0, output: v));
    }

    [Fact]
    public void OtsuRejectsEmptyDataAndBadBins()
    {
        Throws("data", "empty", () => Thresholds.Otsu(Array.Empty<float>()));
        Throws("nbins", "≥ 1", () => Thresholds.Otsu(Small(), nbins: 0));
    }

    [Fact]
    public void OtsuOfAConstantVolumeIsThatValue()
    {
        // skimage: "if np.all(image == first_pixel): return first_pixel"
        var v = Volume.Zeros(new Shape3(3, 4, 5), new Spacing3(1, 1, 1));
        Array.Fill(v.Data, 17.25f);
        Assert.Equal(17.25f, Thresholds.Otsu(v));
    }
}
