using System.Collections.Concurrent;
using System.Diagnostics;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Coordination;

namespace BatchCohort.Runtime.Scheduling;

/// <summary>What a schedule asks the engine for: one run of a cohort, to the end.</summary>
public sealed record RunRequest(string Cohort, int? Jobs);

/// <summary>How a run ended, as the nightly job needs it.</summary>
public sealed record LaunchedRun(RunState State, bool Interrupted, string OutputDirectory);

/// <summary>A run of this cohort is going already (in this process or another).</summary>
public sealed class RunAlreadyGoingException(string cohort) : InvalidOperationException($"{cohort}: a run of this cohort is still going")
{
    public string Cohort { get; } = cohort;
}

/// <summary>
/// The one seam between schedules and the run engine: start a run of a cohort (and follow it to its end), is a run
/// of a cohort going, what is its state. Today <see cref="EmbeddedRunLauncher"/> over the in-process engine; the cluster
/// engine plugs in here with one class.
/// </summary>
public interface IRunLauncher
{
    Task<LaunchedRun> RunAsync(RunRequest request, CancellationToken ct);

    bool IsRunning(string cohort);

    /// <summary>The cohort's current or last run (runs/state.json), or null.</summary>
    RunState? Status(string cohort);
}

/// <summary>
/// Runs a cohort in this process through the engine it is given (the CLI binds the embedded engine in one class,
/// Cli/Commands/Engine.cs). "Is a run going" is an exclusive lock on &lt;output&gt;/runs/.run.lock (an OS file lock:
/// released when the process ends, even by kill -9), so two schedulers, or a scheduler and <c>schedule run-now</c>,
/// never run one cohort at once.
/// </summary>
public sealed class EmbeddedRunLauncher(Func<RunRequest, CancellationToken, Task<LaunchedRun>> engine) : IRunLauncher
{
    private readonly ConcurrentDictionary<string, byte> _running = new(StringComparer.Ordinal);

    public async Task<LaunchedRun> RunAsync(RunRequest request, CancellationToken ct)
    {
        var manifest = CohortManifest.Load(request.Cohort);
        var key = manifest.OutputDirectory;
        if (!_running.TryAdd(key, 0)) throw new RunAlreadyGoingException(manifest.Name);
        try
        {
            using var held = RunLock.TryAcquire(manifest.OutputDirectory) ?? throw new RunAlreadyGoingException(manifest.Name);
            return await engine(request, ct);
        }
        finally
        {
            _running.TryRemove(key, out _);
        }
    }

    public bool IsRunning(string cohort)
    {
        string outDir;
        try { outDir = CohortManifest.Load(cohort).OutputDirectory; }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return false; }
        if (_running.ContainsKey(outDir)) return true;
        using var probe = RunLock.TryAcquire(outDir);
        return probe is null;
    }

    public RunState? Status(string cohort)
    {
        try
        {
            var m = CohortManifest.Load(cohort);
            // a blob output: its own state (another machine may have run it since); the staging copy when it cannot be read
            if (Storage.StorageLocation.IsRemote(m.OutputLocation))
            {
                try { return Storage.OutputRuns.ReadStateAsync(m.OutputLocation).GetAwaiter().GetResult(); }
                catch (Storage.StorageException) { }
            }
            return RunState.TryLoad(RunState.StatePath(m.OutputDirectory));
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return null; }
    }
}

/// <summary>An exclusive OS lock on &lt;output&gt;/runs/.run.lock while a scheduled run of that cohort is going.</summary>
public static class RunLock
{
    public static string PathFor(string outputDirectory) => Path.Combine(outputDirectory, "runs", ".run.lock");

    /// <summary>The held lock (dispose to release), or null when another holder has it.</summary>
    public static IDisposable? TryAcquire(string outputDirectory) => TryLockFile(PathFor(outputDirectory));

    public static IDisposable? TryLockFile(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            var fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            fs.SetLength(0);
            using (var w = new StreamWriter(fs, leaveOpen: true)) w.Write(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            fs.Flush();
            return fs;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

/// <summary>Stopwatch helper for durations in history records.</summary>
internal static class Seconds
{
    public static double Of(Stopwatch sw) => Math.Round(sw.Elapsed.TotalSeconds, 3);
}
