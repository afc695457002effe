using System.Collections.Concurrent;
using BatchCohort.Contracts;
using BatchCohort.Runtime;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace BatchCohort.Grains;

/// <summary>In-process only (the embedded silo): the group stage's full summary and any exception, for the client in the same process.</summary>
public sealed class LocalRunResults
{
    private readonly ConcurrentDictionary<string, (GroupSummary? Summary, Exception? Error)> _byRun = new(StringComparer.Ordinal);
    public void Set(string runId, GroupSummary? summary, Exception? error) => _byRun[runId] = (summary, error);
    public (GroupSummary? Summary, Exception? Error) Get(string runId) => _byRun.TryGetValue(runId, out var v) ? v : default;
}

/// <summary>
/// The coordinator of one run (key: the run id). Its state (a <see cref="RunState"/>) is persisted by the "runs"
/// grain storage — embedded: runs/state.json beside the outputs; a cluster: Redis or Azure blobs — in two parts: the
/// snapshot (the whole state, written at every change of the run's status and at each compaction) and a
/// <see cref="RunJournal"/> (the subjects changed since the snapshot, written for each lease and at most every half
/// second for reports), so a write costs the changes since the last compaction, not the cohort's size. A timer puts back the subjects of silos that died (membership says
/// so) or that lost their work (their subject grain has no record of it), then, when no subject is pending or running,
/// runs the group stage off the grain's scheduler and marks the run complete. Reactivated on another silo after its
/// own silo died, it carries on from the persisted state: subjects done but not yet persisted are cache hits.
/// </summary>
[GrainType("cohortrun")]
public sealed class CohortRunGrain : Grain, ICohortRunGrain
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ReconcileEvery = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan UnknownSiloGrace = TimeSpan.FromSeconds(10);

    private readonly IPersistentState<RunState> _store;
    private readonly IPersistentState<RunJournal> _journal;
    /// <summary>The latest delta of every subject changed since the last snapshot: what each journal write holds.</summary>
    private readonly Dictionary<string, SubjectDelta> _deltas = new(StringComparer.Ordinal);
    /// <summary>The next write must be a snapshot (a compaction whose write failed or was never made, a recovery).</summary>
    private bool _snapshotDue, _epochRaised;
    private DateTime _lastPush = DateTime.MinValue;
    private readonly IClusterMembershipService _membership;
    private readonly ILogger<CohortRunGrain> _log;
    private readonly LocalRunResults? _local;
    private readonly string _silo;
    private readonly IServiceProvider _services;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private RunLedger? _ledger;
    private RunOutput? _output;   // a blob output: state pushed under ETag conditions, group outputs uploaded
    private bool _recovered, _grouping;
    /// <summary>Changes made to the state, and the last change a completed write covered.</summary>
    private long _version, _persisted;
    private IGrainTimer? _timer;
    private DateTime _lastReconcile = DateTime.UtcNow;

    public CohortRunGrain([PersistentState("run", "runs")] IPersistentState<RunState> store,
        [PersistentState("journal", "runs")] IPersistentState<RunJournal> journal, IClusterMembershipService membership,
        ILogger<CohortRunGrain> log, IServiceProvider services, ILocalSiloDetails silo)
    {
        _silo = silo.SiloAddress.ToParsableString();
        _store = store;
        _journal = journal;
        _membership = membership;
        _log = log;
        _local = services.GetService<LocalRunResults>();
        _services = services;
    }

    private string RunId => this.GetPrimaryKeyString();
    private RunState? State => _ledger?.State;
    private RunOutput Output => _output ??= new RunOutput(State!);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var s = _store.State;
        if (s.RunId == RunId)
        {
            // the changes since the last snapshot; the next write is a snapshot that holds them
            if (_journal.State.ApplyTo(s) && _journal.State.Changes.Count > 0) _snapshotDue = true;
            _ledger = new RunLedger(s);
            if (s.IsOpen)
            {
                _recovered = true;   // this run was open when its previous activation (or process) went away
                _lastReconcile = DateTime.MinValue;
                StartTimer();
            }
        }
        return Task.CompletedTask;
    }

    public async Task<RunTicket> Open(RunRequest request, bool resume)
    {
        var now = DateTimeOffset.UtcNow;
        if (State is { } s)
        {
            if (s.IsOpen)
            {
                bool resumedNow = _recovered;
                Output.Seed(request.OutputStateETag);
                if (_recovered) { s.ResumedAt.Add(now); _recovered = false; await PersistAsync(full: true); }
                StartTimer();
                return new RunTicket(RunId, resumedNow, !resumedNow, s.Status);
            }
            if (resume && s.Status is RunState.Interrupted or RunState.Cancelled)
            {
                Output.Seed(request.OutputStateETag);
                // a subject recorded done whose result has gone from the output (deleted, another key) is redone
                var valid = await Output.ValidResultsAsync(s.Subjects.Where(x => x.Status == Runtime.Coordination.SubjectStatus.Done).Select(x => (x.Label, x.CacheKey)));
                RunPlanner.Resume(s, request, now, (label, _) => valid.GetValueOrDefault(label));
                _ledger = new RunLedger(s);
                await PersistAsync(full: true);
                await ListAsync();
                StartTimer();
                return new RunTicket(RunId, true, false, s.Status);
            }
            return new RunTicket(RunId, false, false, s.Status);
        }
        var state = RunPlanner.NewState(request, RunId, now);
        _store.State = state;
        _ledger = new RunLedger(state);
        _output = null;
        Output.Seed(request.OutputStateETag);
        await PersistAsync(full: true);
        await ListAsync();
        StartTimer();
        return new RunTicket(RunId, false, false, state.Status);
    }

    public async Task<SubjectJob[]> Lease(string silo, string pipelineVersion, int count)
    {
        if (State is not { Status: RunState.Measuring } s || pipelineVersion != s.PipelineVersion) return Array.Empty<SubjectJob>();
        var leased = _ledger!.Lease(silo, count, DateTimeOffset.UtcNow);
        if (leased.Count == 0) return Array.Empty<SubjectJob>();
        Changed();
        var jobs = leased.Select(x => new SubjectJob(
            s.RunId, x.Id, x.Label, x.Input ?? "",
            CohortStorage.SubjectOutput(s.OutputDirectory, s.OutputLocation, x.Label),
            s.Settings, s.SettingsHash, s.PipelineVersion, x.Problem, x.Attempts)).ToArray();
        // write-ahead: a lease is durable before its silo starts the work. A coordinator reactivated from this state
        // (its silo died) therefore knows every subject handed out, and does not lease one again while it is measured.
        // Concurrent writers share a write (PersistAsync skips when a later write already covered this change).
        await PersistAsync(_version);
        return jobs;
    }

    public Task Report(SubjectReport report)
    {
        if (State is { Status: RunState.Measuring } && _ledger!.Apply(report, DateTimeOffset.UtcNow)) Changed();
        return Task.CompletedTask;
    }

    public Task<RunProgress?> GetProgress(int failuresSeen)
    {
        if (State is not { } s) return Task.FromResult<RunProgress?>(null);
        var p = _ledger!.Snapshot();
        var failures = _ledger.Failures;
        var fresh = failures.Skip(Math.Clamp(failuresSeen, 0, failures.Count)).ToArray();
        return Task.FromResult<RunProgress?>(new RunProgress(s.RunId, s.Status, p.Total, p.Done, p.Cached, p.Failed, p.Running, p.Pending,
            p.Elapsed.TotalSeconds, p.Eta?.TotalSeconds, fresh, failures.Count));
    }

    public Task<RunView?> GetView() => Task.FromResult(State is { } s ? RunPlanner.View(s) with { Coordinator = _silo } : null);

    public Task<HostMemory> GetHostMemory()
    {
        // the process figures first: measuring the state below makes a copy of it, which must not count in the peak
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        long workingSet = p.WorkingSet64, peak = p.PeakWorkingSet64;
        long stateJson = 0, stateManaged = 0;
        int subjects = 0;
        if (State is { } s)
        {
            // through a stream: no large buffer rented from the shared pool (it would stay there, counted as the silo's)
            using var ms = new MemoryStream();
            System.Text.Json.JsonSerializer.Serialize(ms, s, Json.Compact);
            stateJson = ms.Length;
            subjects = s.Subjects.Count;
            ms.Position = 0;
            long before = GC.GetTotalMemory(forceFullCollection: true);
            var copy = System.Text.Json.JsonSerializer.Deserialize<RunState>(ms, Json.Compact);
            long after = GC.GetTotalMemory(forceFullCollection: true);
            GC.KeepAlive(copy);
            stateManaged = Math.Max(0, after - before);
        }
        long managed = GC.GetTotalMemory(forceFullCollection: true);
        var info = GC.GetGCMemoryInfo();
        int activations = _services.GetService<Orleans.Runtime.IActivationWorkingSet>()?.Count ?? -1;
        return Task.FromResult(new HostMemory(_silo, workingSet, peak, managed, info.TotalCommittedBytes,
            subjects, stateJson, stateManaged, activations));
    }

    public Task<RunView?> Interrupt() => StopAsync(RunState.Interrupted);

    public Task<RunView?> Cancel() => StopAsync(RunState.Cancelled);

    private async Task<RunView?> StopAsync(string status)
    {
        if (State is not { } s) return null;
        if (s.Status == RunState.Measuring)
        {
            _ledger!.Stop(status);
            s.FinishedAt = DateTimeOffset.UtcNow;
            await PersistAsync(full: true);
            s.Save(RunState.RecordPath(Output.Staging, s.RunId));
            await UploadAsync($"runs/{s.RunId}.json");
            await ListAsync();
            StopTimer();
        }
        return RunPlanner.View(s) with { Coordinator = _silo };
    }

    private void StartTimer() =>
        _timer ??= this.RegisterGrainTimer(OnTickAsync, new GrainTimerCreationOptions(Tick, Tick) { Interleave = true, KeepAlive = true });

    private void StopTimer()
    {
        _timer?.Dispose();
        _timer = null;
    }

    private async Task OnTickAsync(CancellationToken ct)
    {
        if (State is not { } s) return;
        var now = DateTimeOffset.UtcNow;
        if (s.Status == RunState.Measuring)
        {
            if (_ledger!.Requeue(IsGone, now) > 0) Changed();
            if (DateTime.UtcNow - _lastReconcile > ReconcileEvery)
            {
                _lastReconcile = DateTime.UtcNow;
                await ReconcileAsync();
            }
            if (s.Status == RunState.Measuring && _ledger.Settled) await StartGroupStageAsync();
        }
        else if (s.Status == RunState.Grouping && !_grouping) await StartGroupStageAsync();
        if (_version > _persisted) await PersistAsync();
    }

    /// <summary>True when the silo that leased a subject is dead, or unknown to membership for a while (a silo of a previous process).</summary>
    private bool IsGone(string silo)
    {
        var members = _membership.CurrentSnapshot.Members;
        foreach (var (address, member) in members)
            if (address.ToParsableString() == silo)
                return member.Status is SiloStatus.Dead;
        return LeaseAge(silo) > UnknownSiloGrace;
    }


    private TimeSpan LeaseAge(string silo)
    {
        var oldest = State!.Subjects.Where(x => x.Status == Runtime.Coordination.SubjectStatus.Running && x.Worker == silo && x.StartedAt is not null)
            .Select(x => x.StartedAt!.Value).DefaultIfEmpty(DateTimeOffset.UtcNow).Min();
        return DateTimeOffset.UtcNow - oldest;
    }

    /// <summary>Asks the subject grains of running subjects what became of them: an outcome the coordinator missed is
    /// applied; work that no grain knows of (lost with a previous activation or process) goes back to pending.</summary>
    private async Task ReconcileAsync()
    {
        var s = State!;
        var running = s.Subjects.Where(x => x.Status == Runtime.Coordination.SubjectStatus.Running
                                            && x.StartedAt < DateTimeOffset.UtcNow - TimeSpan.FromSeconds(2)).ToList();
        if (running.Count == 0) return;
        var polls = running.Select(async x =>
        {
            try
            {
                var p = await GrainFactory.GetGrain<ISubjectGrain>(SiloWorkLoop.SubjectKey(s.RunId, x.Id, x.Attempts)).Poll(s.RunId).WaitAsync(TimeSpan.FromSeconds(3));
                return (x.Id, x.Attempts, Known: true, Poll: p);
            }
            catch (Exception) { return (x.Id, x.Attempts, Known: false, Poll: (SubjectPoll?)null); }
        }).ToList();
        var now = DateTimeOffset.UtcNow;
        foreach (var (id, attempt, known, poll) in await Task.WhenAll(polls))
        {
            if (!known || s.Status != RunState.Measuring) continue;   // unreachable silo: membership decides
            if (poll is null || (!poll.Working && poll.Outcome is null))
            {
                if (_ledger!.Requeue(id, attempt, "its work was lost", now)) Changed();
            }
            else if (poll.Outcome is { } outcome && !poll.Working)
            {
                if (_ledger!.Apply(outcome with { Attempt = attempt }, now)) Changed();
            }
        }
    }

    private async Task StartGroupStageAsync()
    {
        if (_grouping) return;
        _grouping = true;
        var s = State!;
        s.Status = RunState.Grouping;
        await PersistAsync(full: true);
        await ListAsync();
        _ = GroupStageAsync(s);
    }

    private async Task GroupStageAsync(RunState s)
    {
        GroupSummary? summary = null;
        Exception? error = null;
        try
        {
            // a phase boundary: the measuring phase's garbage (run-state snapshots, messages) is given back to the system
            // before the group stage loads every result, so the two do not add up in this silo's peak (docs/cluster.md "Figures")
            NativeHeap.GiveBack();
            // the manifest as the client ran it (its --output/--export), blob demographics fetched into scratch; a blob
            // output: the manifest's copy in it, and the settings document (for the report's methods) pulled into staging
            var output = Output;
            await output.PullAsync(new[] { $"runs/settings-{s.SettingsHash[..Math.Min(16, s.SettingsHash.Length)]}.json" });
            await using var storage = await CohortStorage.OpenAsync(await RunManifestAsync(s, output.Staging), CancellationToken.None, pullState: false, fetchAtlas: false);
            summary = await Task.Run(() =>
            {
                var manifest = storage.Manifest;
                return GroupStage.Run(manifest, RunPlanner.Inputs(s, manifest), s, NullRunObserver.Instance,
                    output.Remote ? x => storage.LoadResult(x.Label, x.CacheKey) : null);
            });
            s.Notes = summary.Notes.ToList();
            s.Outputs = summary.Outputs.ToList();
            s.GroupText = summary.Text;
            if (output.Remote)
            {
                // the group outputs into the blob output; a previous run's statistics that this run did not replace go
                await output.UploadAsync(summary.Outputs);
                await output.DeleteAsync(GroupStage.StatisticsFiles.Select(f => "group/" + f).Except(summary.Outputs));
            }
            // publish group/ to <output>/exports (or the manifest's "exports"): latest/, a dated copy, exports.json;
            // an unreachable destination is a note on the run, the measurements stay
            var exportNote = await PublishExportsAsync(s, summary, storage.Output, storage.Manifest.ExportLocation);
            if (exportNote is not null) s.Notes.Add(exportNote);
        }
        catch (Exception e)
        {
            error = e;
            _log.LogError("run {Run}: group stage failed: {Error}", s.RunId, e.Message);
            s.Notes = new List<string> { "group stage failed: " + e.Message.ReplaceLineEndings(" ") };
            // no statistics of an earlier run may stay beside this run's measures
            try { GroupStage.RemoveStaleStatistics(Output.Staging); }
            catch (IOException io) { _log.LogWarning("run {Run}: stale statistics not removed: {Error}", s.RunId, io.Message); }
        }
        s.Status = error is null ? RunState.Completed : RunState.GroupFailed;
        s.FinishedAt = DateTimeOffset.UtcNow;
        _local?.Set(s.RunId, summary, error);
        await PersistAsync(full: true);
        try
        {
            s.Save(RunState.RecordPath(Output.Staging, s.RunId));
            await Output.UploadAsync(new[] { $"runs/{s.RunId}.json" });
        }
        catch (IOException e) { _log.LogWarning("run {Run}: record not written: {Error}", s.RunId, e.Message); }
        await ListAsync();
        StopTimer();
        // a silo lives on after the run (the next night's, other runs): what the group stage used goes back to the system
        NativeHeap.GiveBack();
    }

    /// <summary>The run's manifest as the client ran it: the output and exports of the command line, not only of
    /// cohort.json. A blob output holds a copy of the manifest (no SAS) that this silo reads, wherever it runs: the
    /// client's file may be on another machine (its relative paths still resolve against its folder).</summary>
    private static async Task<CohortManifest> RunManifestAsync(RunState s, string staging)
    {
        var m = s.ManifestCopy is { } copy
            ? CohortManifest.Parse(await RunOutput.ReadManifestCopyAsync(copy), s.Manifest)
            : CohortManifest.Load(s.Manifest);
        var output = s.OutputLocation ?? s.OutputDirectory;
        // this process's staging folder for a blob output (its own BATCHCOHORT_STAGING, not the client's)
        return m.With(outputLocation: output != m.OutputLocation ? output : null, exportLocation: s.ExportLocation, outputDirectory: staging);
    }

    private async Task UploadAsync(string relative)
    {
        try { await Output.UploadAsync(new[] { relative }); }
        catch (IOException e) { _log.LogWarning("run {Run}: {Error}", RunId, e.Message); }
    }

    private async Task<string?> PublishExportsAsync(RunState s, GroupSummary summary, IStorageLocation output, string? exportLocation)
    {
        var files = summary.Outputs.Where(o => o.StartsWith("group/", StringComparison.Ordinal)).Select(o => o["group/".Length..]).ToList();
        if (files.Count == 0) return null;
        try
        {
            var request = new ExportRequest
            {
                SourceFolder = Path.Combine(Output.Staging, "group"), Files = files, Cohort = s.Cohort, RunId = s.RunId,
                FinishedAt = DateTimeOffset.UtcNow, PipelineVersion = s.PipelineVersion, PipelineHash = s.PipelineHash,
                Subjects = s.Subjects.Count,
                Measured = s.Subjects.Count(x => x.Status == SubjectStatus.Done),
                FromCache = s.Subjects.Count(x => x.Status == SubjectStatus.Done && x.FromCache),
                Failed = s.Subjects.Count(x => x.Status == SubjectStatus.Failed),
            };
            if (exportLocation is { } dest) await ExportPublisher.PublishAsync(request, dest);
            else await ExportPublisher.PublishAsync(request, output.Child("exports"));
            return null;
        }
        catch (Exception e) when (e is ExportFailedException or IOException)
        {
            _log.LogWarning("run {Run}: {Error}", s.RunId, e.Message);
            return e is ExportFailedException ? e.Message : "failed to publish: " + e.Message;
        }
    }

    private void Changed() => _version++;

    /// <summary>A journal of more deltas than this is compacted into a snapshot. A journal write costs its deltas, a
    /// compaction the whole state once per this many changed subjects: √(4n) balances the two (200 for 10,000
    /// subjects: journals of ≈ 40 kB, below the large-object heap; a 4 MB snapshot every 200 changes).</summary>
    private int CompactAfter => Math.Clamp((int)Math.Sqrt(4.0 * (State?.Subjects.Count ?? 0)), 128, 4096);

    /// <summary>Writes the changes; with <paramref name="covering"/>, only when no completed write covers that change yet;
    /// <paramref name="full"/>: the whole state (a change of the run's status), else the journal unless it is due for compaction.</summary>
    private async Task PersistAsync(long? covering = null, bool full = false)
    {
        await _writing.WaitAsync();
        try
        {
            if (covering is { } need && _persisted >= need) return;
            long v = _version;
            if (State is not { } s) return;
            foreach (var x in _ledger!.TakeChanges()) _deltas[x.Id] = SubjectDelta.Of(x);
            bool snapshot = full || _snapshotDue || _deltas.Count > CompactAfter;
            if (snapshot)
            {
                _snapshotDue = true;
                // one epoch per compaction, kept when its write fails (it may have landed): a journal of the old epoch is
                // then ignored by recovery, since this snapshot holds all of it
                if (!_epochRaised) { s.Epoch++; _epochRaised = true; }
                await _store.WriteStateAsync();
                _snapshotDue = _epochRaised = false;
                _deltas.Clear();
            }
            else if (_deltas.Count > 0)
            {
                _journal.State = new RunJournal { RunId = s.RunId, Epoch = s.Epoch, Changes = _deltas.Values.ToList() };
                await _journal.WriteStateAsync();
            }
            // a blob output: the output's runs/state.json follows, If-Match the ETag of the previous push (at each
            // snapshot, and at most every 2 s between); a write counts as done when both are (a failed push is tried again)
            if (Output.Remote && (snapshot || DateTime.UtcNow - _lastPush > TimeSpan.FromSeconds(2)))
            {
                await Output.PushStateAsync(s);
                _lastPush = DateTime.UtcNow;
            }
            _persisted = Math.Max(_persisted, v);
        }
        catch (StorageConflictException e)
        {
            // another coordinator writes this output: stop here, never overwrite its state
            _log.LogError("run {Run}: {Error}", RunId, e.Message);
            if (State is { } s && s.IsOpen)
            {
                _ledger!.Stop(RunState.Interrupted);
                s.FinishedAt = DateTimeOffset.UtcNow;
                s.Notes.Add(e.Message);
                if (!_epochRaised) { s.Epoch++; _epochRaised = true; }
                try { await _store.WriteStateAsync(); _epochRaised = false; _deltas.Clear(); } catch (Exception) { }
            }
            _persisted = _version;
            StopTimer();
        }
        catch (Exception e)
        {
            _log.LogWarning("run {Run}: state not persisted yet: {Error}", RunId, e.Message);
        }
        finally { _writing.Release(); }
    }

    private async Task ListAsync()
    {
        var s = State!;
        try { await GrainFactory.GetGrain<IRunDirectoryGrain>(0).Put(new RunListing(s.RunId, s.Cohort, s.OutputLocation ?? s.OutputDirectory, s.Status, s.StartedAt)); }
        catch (Exception e) { _log.LogWarning("run {Run}: directory not updated: {Error}", s.RunId, e.Message); }
    }
}
