using System.Collections.Concurrent;
using System.Text.Json;
using BatchCohort.Contracts;
using BatchCohort.Grains;
using BatchCohort.Host;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Measurement;
using BatchCohort.Runtime.Storage;
using BatchCohort.TestMeasurers;
using BatchCohort.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Orleans.TestingHost;

namespace BatchCohort.Runtime.Tests.Grains;

/// <summary>
/// TEST ONLY. The measurer each test silo runs: the <see cref="CountingTestMeasurer"/>'s deterministic measures, plus a
/// record of every call (which silo, which subject, finished or not), a per-cohort delay, and subjects that fail as a
/// machine-specific failure would (an InvalidOperationException, retryable). The record is the test's own count,
/// independent of the coordinator's bookkeeping.
/// </summary>
public sealed class ProbeMeasurer(string silo, ProbeLog log) : ISubjectMeasurer
{
    private readonly CountingTestMeasurer _inner = new(null, 0, ProbeLog.Pipeline);

    public string PipelineVersion => ProbeLog.Pipeline;
    public IReadOnlyList<string>? MeasureNames => _inner.MeasureNames;
    public IReadOnlyList<string>? LabelNames => _inner.LabelNames;
    public SettingsCatalog? Settings => _inner.Settings;

    public async Task<MeasurerOutput> MeasureAsync(SubjectWork work, CancellationToken ct)
    {
        var cohort = log.CohortOf(work.InputPath);
        log.Started.Enqueue((cohort, silo, work.SubjectId));
        if (log.DelayMs.TryGetValue(cohort, out var delay)) await Task.Delay(delay, ct);
        if (log.Failing.TryGetValue(cohort, out var failing) && failing.Contains(work.SubjectId))
            throw new InvalidOperationException($"simulated failure of {work.SubjectId} on {silo}");
        var m = await _inner.MeasureAsync(work, ct);
        log.Finished.Enqueue((cohort, silo, work.SubjectId));
        return m;
    }
}

/// <summary>What the test silos' measurers did, per cohort folder (each test uses its own).</summary>
public sealed class ProbeLog
{
    public const string Pipeline = "grain-test-1";
    public ConcurrentQueue<(string Cohort, string Silo, string Subject)> Started { get; } = new();
    public ConcurrentQueue<(string Cohort, string Silo, string Subject)> Finished { get; } = new();
    public ConcurrentDictionary<string, int> DelayMs { get; } = new();
    public ConcurrentDictionary<string, HashSet<string>> Failing { get; } = new();

    public string CohortOf(string inputPath) => Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(inputPath)))!;
    public List<(string Silo, string Subject)> StartedIn(string cohort) => Started.Where(x => x.Cohort == cohort).Select(x => (x.Silo, x.Subject)).ToList();
    public List<(string Silo, string Subject)> FinishedIn(string cohort) => Finished.Where(x => x.Cohort == cohort).Select(x => (x.Silo, x.Subject)).ToList();
}

/// <summary>TEST ONLY. Grain state shared by the test silos as a backend would hold it: JSON (as Redis and the blobs get it), an ETag per write.</summary>
public sealed class SharedJsonGrainStorage : IGrainStorage
{
    private readonly ConcurrentDictionary<string, (byte[] Json, string ETag)> _store = new(StringComparer.Ordinal);

    private static string Key(string stateName, GrainId id) => stateName + "/" + id;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_store.TryGetValue(Key(stateName, grainId), out var v))
        {
            grainState.State = JsonSerializer.Deserialize<T>(v.Json, Json.Options)!;
            grainState.ETag = v.ETag;
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = Key(stateName, grainId);
        var json = JsonSerializer.SerializeToUtf8Bytes(grainState.State, Json.Options);
        var etag = Guid.NewGuid().ToString("N");
        lock (_store)
        {
            if (_store.TryGetValue(key, out var old) && old.ETag != grainState.ETag)
                throw new InconsistentStateException($"{key} was written by another activation", old.ETag, grainState.ETag);
            _store[key] = (json, etag);
        }
        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _store.TryRemove(Key(stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}

/// <summary>Two in-process silos (Orleans TestingHost) with the product's grains and services, shared by the tests of a class.</summary>
public sealed class TwoSiloCluster : IAsyncLifetime
{
    public const int CapacityPerSilo = 2;

    public ProbeLog Log { get; } = new();
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var storage = new SharedJsonGrainStorage();
        var log = Log;
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((options, silo) =>
        {
            silo.AddBatchCohort(new ProbeMeasurer(options.SiloName, log), CapacityPerSilo);
            silo.Services.AddGrainStorage(SiloHosting.StorageName, (_, _) => storage);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>The silo name (as the probe records it) of each silo address.</summary>
    public Dictionary<string, string> SiloNames() =>
        Cluster.Silos.ToDictionary(s => s.SiloAddress.ToParsableString(), s => s.Name);

    public int InFlight() => Cluster.Silos.Sum(s => s.ServiceProvider.GetRequiredService<SiloWork>().InFlight);
}

/// <summary>
/// The grains on a real (in-process) 2-silo Orleans cluster: the coordinator's leasing, retries, idempotent
/// submission and cancellation, counted by the measurers themselves. Seconds each; the real-process cluster tests
/// (kill -9, SIGSTOP, Redis, Azurite) are in BatchCohort.Cli.Tests/ClusterTests.
/// </summary>
public sealed class GrainClusterTests(TwoSiloCluster c) : IClassFixture<TwoSiloCluster>
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(120);

    private static async Task<RunRequest> Plan(TempDir d) =>
        (await RunPlanner.PlanAsync(d.FullName, ProbeLog.Pipeline, false, null, NullRunObserver.Instance, CancellationToken.None,
            new ProbeMeasurer("planner", new ProbeLog()))).Request;

    private async Task<RunView> WaitForEnd(string runId)
    {
        var run = c.Client.GetGrain<ICohortRunGrain>(runId);
        var until = DateTime.UtcNow + Guard;
        while (true)
        {
            var v = (await run.GetView())!;
            if (v.Status is not (RunState.Measuring or RunState.Grouping)) return v;
            if (DateTime.UtcNow > until) throw new TimeoutException($"run {runId} still {v.Status} after {Guard.TotalSeconds} s (a hang guard, not a speed check)");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_run_fans_out_over_both_silos_and_measures_every_subject_exactly_once()
    {
        using var d = new TempDir("grains-fanout");
        var ids = TestInputs.WriteCohort(d.FullName, 12);
        c.Log.DelayMs[d.FullName] = 150;
        var request = await Plan(d);
        var ticket = await c.Client.GetGrain<ICohortGrain>(request.OutputDirectory).Submit(request);
        var view = await WaitForEnd(ticket.RunId);

        Assert.Equal(RunState.Completed, view.Status);
        Assert.All(view.Subjects, s => Assert.Equal("done", s.Status));
        var finished = c.Log.FinishedIn(d.FullName);
        Assert.Equal(ids.OrderBy(x => x), finished.Select(f => f.Subject).OrderBy(x => x));   // each once, none missing
        // both silos measured (each takes at most 2 at once, so neither can take all 12), and the run's record agrees
        Assert.Equal(2, finished.Select(f => f.Silo).Distinct().Count());
        var names = c.SiloNames();
        Assert.Equal(2, view.Subjects.Select(s => s.Silo).Distinct().Count());
        foreach (var s in view.Subjects)
            Assert.Equal(finished.Single(f => f.Subject == s.Id).Silo, names[s.Silo!]);
        Assert.Equal(12, File.ReadAllLines(d["out/group/measures.csv"]).Length - 1);
    }

    [Fact]
    public async Task A_subject_that_always_fails_is_tried_3_times_first_on_the_other_silo_then_failed_with_its_reason_while_the_others_finish()
    {
        using var d = new TempDir("grains-retry");
        var ids = TestInputs.WriteCohort(d.FullName, 6);
        c.Log.DelayMs[d.FullName] = 50;
        c.Log.Failing[d.FullName] = new HashSet<string> { "03" };
        var request = await Plan(d);
        var ticket = await c.Client.GetGrain<ICohortGrain>(request.OutputDirectory).Submit(request);
        var view = await WaitForEnd(ticket.RunId);

        Assert.Equal(RunState.Completed, view.Status);
        var failed = Assert.Single(view.Subjects, s => s.Status == "failed");
        Assert.Equal("03", failed.Id);
        Assert.Equal(RunLedger.DefaultMaxAttempts, failed.Attempts);
        Assert.Contains("simulated failure of 03", failed.Reason);
        Assert.EndsWith($"(failed {RunLedger.DefaultMaxAttempts} times)", failed.Reason);
        // the measurers saw exactly 3 attempts at 03, the first two on different silos; every other subject once
        var tries = c.Log.StartedIn(d.FullName).Where(x => x.Subject == "03").ToList();
        Assert.Equal(RunLedger.DefaultMaxAttempts, tries.Count);
        Assert.NotEqual(tries[0].Silo, tries[1].Silo);
        var others = c.Log.FinishedIn(d.FullName).Select(f => f.Subject).OrderBy(x => x).ToList();
        Assert.Equal(ids.Where(i => i != "03").OrderBy(x => x), others);
        Assert.All(view.Subjects.Where(s => s.Id != "03"), s => Assert.Equal("done", s.Status));
        Assert.Equal(5, File.ReadAllLines(d["out/group/measures.csv"]).Length - 1);
    }

    [Fact]
    public async Task A_run_submitted_twice_at_once_is_one_run_and_each_subject_is_measured_once()
    {
        using var d = new TempDir("grains-twice");
        var ids = TestInputs.WriteCohort(d.FullName, 8);
        c.Log.DelayMs[d.FullName] = 100;
        var request = await Plan(d);
        var cohort = c.Client.GetGrain<ICohortGrain>(request.OutputDirectory);
        var tickets = await Task.WhenAll(cohort.Submit(request), cohort.Submit(request));
        Assert.Equal(tickets[0].RunId, tickets[1].RunId);
        Assert.Equal(1, tickets.Count(t => t.AlreadyRunning));
        var view = await WaitForEnd(tickets[0].RunId);
        Assert.Equal(RunState.Completed, view.Status);
        Assert.Equal(ids.OrderBy(x => x), c.Log.StartedIn(d.FullName).Select(x => x.Subject).OrderBy(x => x));
        var listed = (await c.Client.GetGrain<IRunDirectoryGrain>(0).List()).Where(r => r.OutputDirectory == request.OutputDirectory).ToList();
        Assert.Equal(tickets[0].RunId, Assert.Single(listed).RunId);
    }

    [Fact]
    public async Task Cancel_stops_dispatch_and_the_work_in_flight_and_leaves_unfinished_subjects_pending()
    {
        using var d = new TempDir("grains-cancel");
        TestInputs.WriteCohort(d.FullName, 10);
        c.Log.DelayMs[d.FullName] = 30_000;   // no subject can finish: cancellation must stop them
        var request = await Plan(d);
        var ticket = await c.Client.GetGrain<ICohortGrain>(request.OutputDirectory).Submit(request);
        var run = c.Client.GetGrain<ICohortRunGrain>(ticket.RunId);
        var until = DateTime.UtcNow + Guard;
        while (c.Log.StartedIn(d.FullName).Count < 2 * TwoSiloCluster.CapacityPerSilo)
        {
            Assert.True(DateTime.UtcNow < until, "the silos did not start 4 subjects (hang guard)");
            await Task.Delay(50);
        }
        var view = (await run.Cancel())!;
        Assert.Equal(RunState.Cancelled, view.Status);
        Assert.All(view.Subjects, s => Assert.Equal("pending", s.Status));

        // the silos notice (their loop follows the active runs) and cancel the measurements in flight
        while (c.InFlight() > 0)
        {
            Assert.True(DateTime.UtcNow < until, "work in flight was not cancelled (hang guard)");
            await Task.Delay(50);
        }
        int started = c.Log.StartedIn(d.FullName).Count;
        await Task.Delay(1500);   // several lease rounds: nothing more is dispatched
        Assert.Equal(started, c.Log.StartedIn(d.FullName).Count);
        Assert.Empty(c.Log.FinishedIn(d.FullName));
        Assert.Equal(RunState.Cancelled, (await run.GetView())!.Status);
    }
}
