using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Volumes;
using BatchCohort.TestSupport;
using BatchCohort.Imaging.Processing.Filtering;
using BatchCohort.Imaging.Processing.Thresholding;

namespace BatchCohort.Imaging.Tests.Processing;

public sealed class GaussianTests
{
    // the 512×512×300 memory check lives in MemoryTests (a non-parallel collection, so other tests' allocations
    // do not count against it)

    [Fact]
    public void OutputBufferIsReusedAndGivesTheSameResult()
    {
        var v = ProcessingInputs.Synthetic();
        var fresh = Filters.GaussianFilter(v, new Vec3(1.1, 2, 0.8));
        var buffer = v.ZerosLike();
        var again = Filters.GaussianFilter(v, new Vec3(1.1, 2, 0.8), output: buffer);
        Assert.Same(buffer, again);
        Assert.Equal(fresh.Data, buffer.Data);
    }

    [Fact]
    public void PreservesTheSumOfAnImpulseAndItsCentre()
    {
        // known truth: a normalised kernel keeps the total in Constant(0) mode far from the edges, peak at the impulse
        var v = Volume.Zeros(new Shape3(31, 31, 31), new Spacing3(1, 1, 1));
        v[15, 15, 15] = 1000;
        var g = Filters.GaussianFilter(v, 2.0, mode: BoundaryMode.Constant);
        Assert.Equal(1000.0, g.Data.Sum(f => (double)f), 2);
        Assert.Equal(15 + 31 * (15 + 31 * 15), Array.IndexOf(g.Data, g.Data.Max()));
    }

    [RequiresFact(Requirements.Scipy, Requirements.Skimage, Requirements.Nibabel, Requirements.Ch2)]
    public void OtsuOnCh2AsUint8IsWithinHalfABinOfScikitImagesIntegerPath()
    {
        // scikit-image bins an integer array one bin per value (threshold 49 for ch2); we bin the float32 volume like
        // scikit-image does for float input. The two agree within half a bin of our 256-bin histogram.
        var ch2 = ProcessingOracle.Inputs["ch2"];
        float t = Thresholds.Otsu(ch2);
        double binWidth = (ch2.Data.Max() - ch2.Data.Min()) / 256.0;
        var u8 = ProcessingOracle.Expected("otsu_ch2_u8");
        Assert.True(Math.Abs(t - u8[0]) <= binWidth / 2, $"C# {t} vs skimage uint8 {u8[0]} (half bin {binWidth / 2})");
    }
}
