namespace BatchCohort.Imaging.Processing;

/// <summary>
/// Parallel loop with one scratch state per worker (not per task, as Parallel.For's localInit gives): workers take
/// indices from a shared counter, so scratch buffers are rented once per worker and per call.
/// </summary>
internal static class Par
{
    public static void For<TState>(int count, Func<TState> init, Action<int, TState> body, Action<TState>? done = null)
    {
        if (count <= 0) return;
        int workers = Math.Min(Parallelism.Degree, count);
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
}
