using System.Collections.Concurrent;
using BatchCohort.Runtime.Distribution;
using BatchCohort.Runtime.Measurement;
using Orleans.Runtime;

namespace BatchCohort.Grains;

/// <summary>How much one silo takes on: subjects at once (from its cores and memory unless set) and cores per subject.</summary>
public sealed class SiloWorkOptions
{
    /// <summary>Subjects measured at once on this silo; 0 = <see cref="Runtime.Coordination.RunPlanner.DefaultJobs"/>.</summary>
    public int Capacity { get; set; }
}

/// <summary>
/// One silo's work in progress, shared by its subject grains and its <see cref="SiloWorkLoop"/>: the capacity, the
/// subjects in flight, a cancellation per run (cancelled when the run stops being active, or when the silo stops),
/// and the worker that measures (the measurer seam, inside a core budget of cores ÷ capacity).
/// </summary>
public sealed class SiloWork : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _runs = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);
    private int _inFlight, _reserved;

    public SiloWork(ISubjectMeasurer measurer, ILocalSiloDetails silo, SiloWorkOptions options)
    {
        Capacity = options.Capacity > 0 ? options.Capacity : Runtime.Coordination.RunPlanner.DefaultJobs();
        Silo = silo.SiloAddress.ToParsableString();
        Worker = new SubjectWorker(measurer, Silo, Math.Max(1, Environment.ProcessorCount / Capacity));
    }

    public int Capacity { get; }
    /// <summary>This silo's address, as leases and reports name it.</summary>
    public string Silo { get; }
    public SubjectWorker Worker { get; }
    public string PipelineVersion => Worker.PipelineVersion;
    public CancellationToken Stopping => _stopping.Token;

    public int InFlight => Volatile.Read(ref _inFlight);
    /// <summary>Subjects this silo may still take on.</summary>
    public int Free => Capacity - Volatile.Read(ref _inFlight) - Volatile.Read(ref _reserved);

    public void Reserve(int n) => Interlocked.Add(ref _reserved, n);
    public void Unreserve(int n) => Interlocked.Add(ref _reserved, -n);
    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit()
    {
        Interlocked.Decrement(ref _inFlight);
        _changed.Release();
    }

    public Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct) => _changed.WaitAsync(timeout, ct);

    /// <summary>Waits (up to <paramref name="timeout"/>) until no subject is in flight: once the work is cancelled, a
    /// measurement stops at its next check, and one that had already finished writes its result; a silo that stops
    /// waits for that, so a result is never written after the silo (or the embedded run) has returned.</summary>
    public async Task<bool> WaitIdleAsync(TimeSpan timeout, CancellationToken ct)
    {
        var until = DateTime.UtcNow + timeout;
        while (InFlight > 0)
        {
            if (DateTime.UtcNow >= until) return false;
            await Task.Delay(20, ct);
        }
        return true;
    }

    public CancellationToken TokenFor(string runId) =>
        _runs.GetOrAdd(runId, _ => CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token)).Token;

    /// <summary>Stops this silo's work for runs that are no longer active (cancelled, interrupted, finished).</summary>
    public void KeepOnly(IReadOnlyCollection<string> activeRuns)
    {
        var keep = new HashSet<string>(activeRuns, StringComparer.Ordinal);
        foreach (var (run, cts) in _runs)
            if (!keep.Contains(run) && _runs.TryRemove(run, out _)) { cts.Cancel(); cts.Dispose(); }
    }

    public void StopAll()
    {
        try { _stopping.Cancel(); } catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        StopAll();
        foreach (var cts in _runs.Values) cts.Dispose();
        _stopping.Dispose();
        _changed.Dispose();
    }
}
