namespace BatchCohort.Imaging.Processing;

/// <summary>
/// The one place the imaging library decides how many cores a parallel loop may use. By default a loop may use every
/// core of the machine; a host that measures several subjects at once gives each subject a core budget with
/// <see cref="Limit"/>, so that N subjects × their parallel loops never oversubscribe the cores. The budget is
/// ambient (it flows with the async/execution context into every loop started inside the scope, nested loops too).
/// </summary>
public static class Parallelism
{
    private static readonly AsyncLocal<int> Budget = new();

    /// <summary>The cores a loop started here may use: the innermost <see cref="Limit"/> in force, else the machine's cores.</summary>
    public static int Degree => Budget.Value > 0 ? Math.Min(Budget.Value, Environment.ProcessorCount) : Environment.ProcessorCount;

    /// <summary>Caps every parallel loop started inside the returned scope (on this async flow) at <paramref name="cores"/> workers.</summary>
    public static IDisposable Limit(int cores)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cores, 1);
        var previous = Budget.Value;
        Budget.Value = cores;
        return new Scope(previous);
    }

    /// <summary>Options for <see cref="Parallel"/> calls that honour the budget.</summary>
    public static ParallelOptions Options => new() { MaxDegreeOfParallelism = Degree };

    public static void For(int fromInclusive, int toExclusive, Action<int> body)
    {
        if (Degree == 1) { for (int i = fromInclusive; i < toExclusive; i++) body(i); return; }
        Parallel.For(fromInclusive, toExclusive, Options, body);
    }

    public static void For<TLocal>(int fromInclusive, int toExclusive, Func<TLocal> localInit,
        Func<int, ParallelLoopState, TLocal, TLocal> body, Action<TLocal> localFinally) =>
        Parallel.For(fromInclusive, toExclusive, Options, localInit, body, localFinally);

    /// <summary>
    /// A parallel loop over [0, <paramref name="count"/>) with one scratch state per worker (not per task, as
    /// Parallel.For's localInit gives): at most <see cref="Degree"/> workers take indices from a shared counter, so
    /// scratch buffers are rented once per worker and per call; <paramref name="done"/> returns each worker's state.
    /// </summary>
    public static void ForPerWorker<TState>(int count, Func<TState> init, Action<int, TState> body, Action<TState>? done = null)
    {
        if (count <= 0) return;
        int workers = Math.Min(Degree, count);
        if (workers == 1)
        {
            var s = init();
            try { for (int i = 0; i < count; i++) body(i, s); }
            finally { done?.Invoke(s); }
            return;
        }
        int next = -1;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            var s = init();
            try
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count) body(i, s);
            }
            finally { done?.Invoke(s); }
        });
    }

    private sealed class Scope(int previous) : IDisposable
    {
        private bool _disposed;
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Budget.Value = previous;
        }
    }
}
