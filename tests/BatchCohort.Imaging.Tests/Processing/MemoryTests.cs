using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Filtering;

namespace BatchCohort.Imaging.Tests.Processing;

[CollectionDefinition(nameof(MemoryTests), DisableParallelization = true)]
public sealed class MemoryTestsCollection { }

/// <summary>
/// Memory budget on a 512×512×300 float volume (315 MB): no operation needs more than 3× the input in extra memory.
/// Measured with GC.GetTotalAllocatedBytes in a collection that runs alone.
/// </summary>
[Collection(nameof(MemoryTests))]
public sealed class MemoryTests
{
    private static readonly Lazy<Volume> Big = new(() =>
    {
        var v = Volume.Zeros(new Shape3(512, 512, 300), new Spacing3(1, 1, 1));
        var rng = new Random(1);
        for (int i = 0; i < v.Data.Length; i += 97) v.Data[i] = rng.Next(1000);
        return v;
    });

    private static long Measure(Action a)
    {
        GC.Collect();
        long a0 = GC.GetTotalAllocatedBytes(true);
        a();
        return GC.GetTotalAllocatedBytes(true) - a0;
    }

    [Fact]
    public void Gaussian_NeedsNoVolumeSizedScratch()
    {
        // memory budget: ≤ 3× the input in extra memory. With an output buffer, the filter allocates only per-thread
        // slice/plane scratch (pooled); without one, the output itself (1×).
        var v = Big.Value;
        long inputBytes = v.Data.LongLength * 4;
        var outV = v.ZerosLike();
        Filters.GaussianFilter(v, 1.0, output: outV); // warm the pools
        long a0 = GC.GetTotalAllocatedBytes(true);
        Filters.GaussianFilter(v, 2.0, output: outV);
        long withBuffer = GC.GetTotalAllocatedBytes(true) - a0;
        a0 = GC.GetTotalAllocatedBytes(true);
        var fresh = Filters.GaussianFilter(v, 2.0);
        long withoutBuffer = GC.GetTotalAllocatedBytes(true) - a0;
        Assert.True(withBuffer < inputBytes / 20, $"with an output buffer it allocated {withBuffer / 1e6:F1} MB for a {inputBytes / 1e6:F0} MB input");
        Assert.True(withoutBuffer < 1.1 * inputBytes, $"allocated {withoutBuffer / 1e6:F1} MB for a {inputBytes / 1e6:F0} MB input");
        Assert.Equal(outV.Data[1234567], fresh.Data[1234567]);
    }


    [Fact]
    public void EveryFilter_StaysWithinThreeTimesTheInput()
    {
        var v = Big.Value;
        long inputBytes = v.Data.LongLength * 4;
        var outV = v.ZerosLike();
        var ops = new (string Name, Action Run, double MaxExtra)[]
        {
            // with an output buffer: only per-worker rows/slices/planes (pooled; the first call rents them)
            ("median 3", () => Filters.MedianFilter(v, 3, output: outV), 0.05),
            ("uniform 5", () => Filters.UniformFilter(v, 5, output: outV), 0.05),
            ("sobel z", () => Filters.Sobel(v, 2, output: outV), 0.05),
            ("laplace", () => Filters.Laplace(v, output: outV), 0.05),
            ("convolve 3³", () => Filters.Convolve(v, new double[3, 3, 3] { { { 1, 2, 1 }, { 2, 4, 2 }, { 1, 2, 1 } }, { { 1, 2, 1 }, { 2, 4, 2 }, { 1, 2, 1 } }, { { 1, 2, 1 }, { 2, 4, 2 }, { 1, 2, 1 } } }, output: outV), 0.05),
            // one volume-sized temporary for the sums of squared derivatives / of second derivatives
            ("gaussian gradient magnitude", () => Filters.GaussianGradientMagnitude(v, 1.0, output: outV), 1.05),
            ("gradient magnitude", () => Filters.GradientMagnitude(v, output: outV), 1.05),
            ("gaussian laplace", () => Filters.GaussianLaplace(v, 1.0, output: outV), 1.05),
        };
        foreach (var (name, run, maxExtra) in ops)
        {
            long bytes = Measure(run);
            Assert.True(bytes <= maxExtra * inputBytes, $"{name}: allocated {bytes / 1e6:F1} MB for a {inputBytes / 1e6:F0} MB input (budget {maxExtra}×)");
        }
    }
}
