using BatchCohort.Imaging.Processing;
using BatchCohort.Imaging.Volumes;
using BatchCohort.Imaging.Processing.Filtering;

namespace BatchCohort.Imaging.Tests.Processing;

public class ParallelismTests
{
    [Fact]
    public void LimitCapsConcurrentWorkersOfEveryLoopInsideTheScope()
    {
        int running = 0, peak = 0;
        void Body(int _)
        {
            int now = Interlocked.Increment(ref running);
            int seen;
            while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen) { }
            Thread.SpinWait(20000);
            Interlocked.Decrement(ref running);
        }
        using (Parallelism.Limit(1))
        {
            Assert.Equal(1, Parallelism.Degree);
            Parallelism.For(0, 64, Body);
            Assert.Equal(1, peak);
        }
        Assert.Equal(Environment.ProcessorCount, Parallelism.Degree);
    }

    [Fact]
    public async Task BudgetFlowsIntoTasksAndDoesNotLeakToOtherFlows()
    {
        using var _ = Parallelism.Limit(1);
        int inner = await Task.Run(() => Parallelism.Degree);
        Assert.Equal(1, inner);
        Task<int> other;
        using (ExecutionContext.SuppressFlow()) other = Task.Run(() => Parallelism.Degree);
        Assert.Equal(Environment.ProcessorCount, await other);
    }

    [Fact]
    public void ResultsAreTheSameWithOneCoreAsWithAll()
    {
        var shape = new Shape3(137, 129, 23);
        var rnd = new Random(7);
        var data = new float[shape.Count];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rnd.NextDouble();
        var v = new Volume(shape, data, Affine.Identity);
        var all = Filters.GaussianFilter(v, 1.5).Data.ToArray();
        float[] one;
        using (Parallelism.Limit(1)) one = Filters.GaussianFilter(v, 1.5).Data.ToArray();
        Assert.Equal(all, one);
    }
}
