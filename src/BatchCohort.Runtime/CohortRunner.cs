using System.Reflection;
using System.Text.Json.Nodes;
using BatchCohort.Contracts;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Coordination;
using BatchCohort.Runtime.Distribution;
using BatchCohort.Runtime.Measurement;
using BatchCohort.Runtime.Storage;

namespace BatchCohort.Runtime;

public sealed record CohortRunOptions
{
    /// <summary>Subjects measured at once; default: the cores, fewer when memory is short.</summary>
    public int? Jobs { get; init; }

    /// <summary>Start a new run even when the last one was interrupted (results already written are still reused).</summary>
    public bool NewRun { get; init; }

    /// <summary>Overrides the manifest's output: a folder or a blob location (az://container/prefix, an https blob URL).</summary>
    public string? Output { get; init; }

    /// <summary>Overrides where completed runs publish their group outputs (default &lt;output&gt;/exports).</summary>
    public string? Export { get; init; }
}

/// <summary>What a person sees while a cohort runs. Every method may be called from any thread.</summary>
public interface IRunObserver
{
    void Phase(string text);
    /// <summary>The coordinator is about to dispatch: subscribe to its progress here.</summary>
    void Measuring(CohortCoordinator coordinator, bool resumed);
    void Note(string text);
}

public sealed record CohortRunOutcome(
    CohortManifest Manifest,
    RunState State,
    bool Interrupted,
    bool Resumed,
    GroupSummary? Group)
{
    public IReadOnlyList<SubjectState> Failed => State.Subjects.Where(s => s.Status == SubjectStatus.Failed).ToList();
    public string OutputDirectory => Manifest.OutputDirectory;
    /// <summary>The output as a person names it: a folder, or a blob location without any SAS.</summary>
    public string OutputDisplay => Storage.StorageLocation.Redact(Manifest.OutputLocation);
    /// <summary>Where the group outputs were published, or null (see the notes when publishing failed).</summary>
    public ExportResult? Export { get; init; }
    public string RunRecordPath => RunState.RecordPath(Manifest.OutputDirectory, State.RunId);
}

/// <summary>
/// <c>batchcohort run COHORT</c>, the embedded default: manifest → (synthetic cohort on first run) → subjects →
/// coordinator + in-memory MassTransit bus (one process, all cores) → group stage → dataset_description.json and
/// runs/&lt;run-id&gt;.json. Interrupted (Ctrl-C, kill -9) and run again, it resumes the same run and redoes only
/// unfinished subjects; run again after it completed, it starts a new run in which unchanged subjects are cache hits.
/// </summary>
public sealed class CohortRunner(ISubjectMeasurer measurer, IRunObserver? observer = null)
{
    private readonly IRunObserver _obs = observer ?? NullObserver.Instance;

    public static string Generator => "BatchCohort";
    public static string Version => typeof(CohortRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? typeof(CohortRunner).Assembly.GetName().Version?.ToString() ?? "0";

    public async Task<CohortRunOutcome> RunAsync(string cohort, CohortRunOptions? options = null, CancellationToken ct = default)
    {
        options ??= new CohortRunOptions();
        var manifest = CohortManifest.Load(cohort);
        if (options.Output is not null || options.Export is not null)
            manifest = manifest.With(outputLocation: ResolveLocation(options.Output), exportLocation: ResolveLocation(options.Export));
        if (manifest.Synthesize is not null) await SyntheticCohort.EnsureAsync(manifest, _obs, ct);
        // remote demographics/atlas streamed to scratch, the output opened (a folder, or a blob prefix with a local staging folder)
        await using var storage = await CohortStorage.OpenAsync(manifest, ct);
        manifest = storage.Manifest;
        foreach (var demo in manifest.DemographicTables)
            if (!File.Exists(demo.Path))
                throw new FileNotFoundException($"{manifest.ManifestPath}: demographics: file not found: {demo.Path}", demo.Path);
        var subjects = SubjectDiscovery.Discover(manifest);
        if (subjects.Count == 0)
            throw new CohortManifestException(manifest.ManifestPath, "inputs", "no subjects found (the patterns matched no file)");

        // The settings every worker needs, content-addressed under runs/.
        var atlas = AtlasIdentity.Resolve(manifest.Atlas);
        var settings = new RunSettings(manifest.Inputs.Type, atlas, AtlasIdentity.Of(atlas), manifest.Settings);
        var settingsHash = settings.Hash;
        var outDir = manifest.OutputDirectory;
        Directory.CreateDirectory(Path.Combine(outDir, "runs"));
        var settingsPath = Path.Combine(outDir, "runs", $"settings-{settingsHash[..16]}.json");
        if (!File.Exists(settingsPath)) AtomicFile.WriteAllText(settingsPath, settings.ToJson().ToJsonString(Json.Options));
        await storage.UploadAsync(new[] { $"runs/settings-{settingsHash[..16]}.json" }, ct);
        var pipelineHash = ContentHash.OfText($"{measurer.PipelineVersion}\n{settingsHash}")[..16];

        var statePath = RunState.StatePath(outDir);
        var (state, resumed) = OpenRun(manifest, subjects, statePath, measurer.PipelineVersion, settingsHash, pipelineHash, options.NewRun, storage);
        int jobs = options.Jobs ?? DefaultJobs();
        state.Jobs = jobs;
        WriteDatasetDescription(manifest, pipelineHash);
        await storage.UploadAsync(new[] { "dataset_description.json" }, ct);

        var coordinator = new CohortCoordinator(state, statePath);
        coordinator.Persist();
        await storage.PushStateAsync(ct);   // a blob output: runs/state.json under an ETag condition, then after every change
        storage.Follow(coordinator);
        var bySubject = subjects.ToDictionary(s => s.Id, StringComparer.Ordinal);

        if (coordinator.Outstanding().Count > 0)
        {
            _obs.Phase(resumed ? $"resuming run {state.RunId}" : $"run {state.RunId}");
            _obs.Measuring(coordinator, resumed);
            var worker = new SubjectWorker(measurer);
            var bus = await EmbeddedBus.StartAsync(worker, coordinator, jobs, ct);
            bool interrupted = false;
            try
            {
                var commands = coordinator.Outstanding().Select(s =>
                {
                    var si = bySubject[s.Id];
                    return new MeasureSubject
                    {
                        RunId = state.RunId,
                        Cohort = manifest.Name,
                        SubjectId = si.Id,
                        SubjectLabel = si.Label,
                        Input = CohortStorage.InputUri(si.InputPath),
                        Output = storage.SubjectOutputUri(si.Label),
                        Settings = FileUri.From(settingsPath),
                        SettingsHash = settingsHash,
                        KnownProblem = si.Problem,
                    };
                }).ToList();
                await bus.SendAsync(commands, ct);
                await coordinator.AllSettled.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                interrupted = true;
            }
            if (interrupted)
            {
                coordinator.MarkInterrupted();
                // Give in-flight subjects a moment to notice the cancellation; whatever is still running is redone on resume.
                await Task.WhenAny(bus.DisposeAsync().AsTask(), Task.Delay(TimeSpan.FromSeconds(1.5), CancellationToken.None));
                coordinator.MarkInterrupted();
                state.FinishedAt = DateTimeOffset.UtcNow;
                state.Save(RunState.RecordPath(outDir, state.RunId));
                try
                {
                    await storage.UploadAsync(new[] { $"runs/{state.RunId}.json" }, CancellationToken.None);
                    await storage.FlushStateAsync(CancellationToken.None);
                }
                catch (StorageException e) { _obs.Note("the run state could not be saved to the output: " + e.Message); }
                return new CohortRunOutcome(manifest, state, true, resumed, null);
            }
            await bus.DisposeAsync();
        }
        else
        {
            _obs.Phase($"run {state.RunId}: every subject already measured");
        }

        state.Status = RunState.Grouping;
        coordinator.Persist();
        ct.ThrowIfCancellationRequested();
        _obs.Phase("group statistics");
        var group = CohortGroupStage.Run(manifest, subjects, state, _obs, s => storage.LoadResult(s.Label, s.CacheKey));
        state.Notes = group.Notes.ToList();
        state.Outputs = group.Outputs.ToList();
        await storage.UploadAsync(group.Outputs, ct);
        state.FinishedAt = DateTimeOffset.UtcNow;
        var export = await PublishAsync(manifest, storage, state, group, ct);
        state.Status = RunState.Completed;
        coordinator.Persist();
        state.Save(RunState.RecordPath(outDir, state.RunId));
        await storage.UploadAsync(new[] { $"runs/{state.RunId}.json" }, ct);
        await storage.FlushStateAsync(ct);
        return new CohortRunOutcome(manifest, state, false, resumed, group) { Export = export };
    }

    /// <summary>Publishes group/ to the export location (latest/, a dated copy, exports.json). A failure is a note on the
    /// run ("failed to publish: …"), never a reason to lose the measurements.</summary>
    private async Task<ExportResult?> PublishAsync(CohortManifest m, CohortStorage storage, RunState state, GroupSummary group, CancellationToken ct)
    {
        var files = group.Outputs.Where(o => o.StartsWith("group/", StringComparison.Ordinal)).Select(o => o["group/".Length..]).ToList();
        if (files.Count == 0) return null;
        var request = new ExportRequest
        {
            SourceFolder = Path.Combine(m.OutputDirectory, "group"),
            Files = files,
            Cohort = m.Name,
            RunId = state.RunId,
            FinishedAt = state.FinishedAt ?? DateTimeOffset.UtcNow,
            PipelineVersion = state.PipelineVersion,
            PipelineHash = state.PipelineHash,
            Subjects = state.Subjects.Count,
            Measured = state.Subjects.Count(s => s.Status == SubjectStatus.Done),
            FromCache = state.Subjects.Count(s => s.Status == SubjectStatus.Done && s.FromCache),
            Failed = state.Subjects.Count(s => s.Status == SubjectStatus.Failed),
        };
        try
        {
            _obs.Phase("publishing exports");
            var r = m.ExportLocation is { } dest
                ? await ExportPublisher.PublishAsync(request, dest, ct)
                : await ExportPublisher.PublishAsync(request, storage.Output.Child("exports"), ct);
            return r;
        }
        catch (ExportFailedException e)
        {
            state.Notes.Add(e.Message);
            _obs.Note(e.Message);
            return null;
        }
    }

    private static string? ResolveLocation(string? spec) =>
        spec is null ? null : StorageLocation.IsRemote(spec) ? spec : Path.GetFullPath(spec);

    private (RunState State, bool Resumed) OpenRun(CohortManifest m, IReadOnlyList<SubjectInput> subjects, string statePath,
        string pipelineVersion, string settingsHash, string pipelineHash, bool forceNew, CohortStorage storage)
    {
        var now = DateTimeOffset.UtcNow;
        var previous = RunState.TryLoad(statePath);
        if (previous is not null && previous.Status != RunState.Completed)
        {
            bool sameWork = previous.PipelineVersion == pipelineVersion && previous.SettingsHash == settingsHash;
            if (sameWork && !forceNew)
            {
                var old = previous.Subjects.ToDictionary(s => s.Id, StringComparer.Ordinal);
                var list = new List<SubjectState>();
                foreach (var si in subjects)
                {
                    if (old.TryGetValue(si.Id, out var s) && s.Label == si.Label)
                    {
                        if (s.Status == SubjectStatus.Running) { s.Status = SubjectStatus.Pending; s.StartedAt = null; s.Worker = null; }
                        // A subject recorded done whose result has gone (deleted, or a different key) is redone.
                        if (s.Status == SubjectStatus.Done && storage.LoadResult(si.Label, s.CacheKey) is null)
                            s.Status = SubjectStatus.Pending;
                        list.Add(s);
                    }
                    else list.Add(new SubjectState { Id = si.Id, Label = si.Label });
                }
                previous.Subjects.Clear();
                previous.Subjects.AddRange(list);
                previous.ResumedAt.Add(now);
                previous.Status = RunState.Measuring;
                previous.FinishedAt = null;
                return (previous, true);
            }
            // The interrupted run is closed as it was; a new run begins (its cached results are still reused).
            previous.Status = RunState.Interrupted;
            previous.Save(RunState.RecordPath(m.OutputDirectory, previous.RunId));
            _obs.Note($"the interrupted run {previous.RunId} used other settings or another pipeline version: starting a new run");
        }
        var state = new RunState
        {
            RunId = RunState.NewRunId(now),
            Cohort = m.Name,
            Manifest = m.ManifestPath,
            PipelineVersion = pipelineVersion,
            SettingsHash = settingsHash,
            PipelineHash = pipelineHash,
            Generator = $"{Generator} {Version}",
            StartedAt = now,
        };
        state.Subjects.AddRange(subjects.Select(s => new SubjectState { Id = s.Id, Label = s.Label }));
        return (state, false);
    }

    private void WriteDatasetDescription(CohortManifest m, string pipelineHash)
    {
        var doc = new JsonObject
        {
            ["Name"] = $"BatchCohort derivatives: {m.Name}",
            ["BIDSVersion"] = "1.9.0",
            ["DatasetType"] = "derivative",
            ["GeneratedBy"] = new JsonArray(new JsonObject
            {
                ["Name"] = Generator,
                ["Version"] = Version,
                ["PipelineVersion"] = measurer.PipelineVersion,
                ["PipelineHash"] = pipelineHash,
                ["Description"] = "Atlas-based affine registration, head/intracranial/brain segmentation, OASIS-style volumes (eTIV, ASF, nWBV), group statistics.",
            }),
        };
        AtomicFile.WriteAllText(Path.Combine(m.OutputDirectory, "dataset_description.json"), doc.ToJsonString(Json.Options) + "\n");
    }

    /// <summary>One subject per core, but no more than the memory allows (about 1.5 GiB per subject at the OASIS size).</summary>
    public static int DefaultJobs()
    {
        int cores = Environment.ProcessorCount;
        long avail = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        int byMemory = avail > 0 ? (int)Math.Max(1, avail / (1536L << 20)) : cores;
        return Math.Max(1, Math.Min(cores, byMemory));
    }

    private sealed class NullObserver : IRunObserver
    {
        public static readonly NullObserver Instance = new();
        public void Phase(string text) { }
        public void Measuring(CohortCoordinator coordinator, bool resumed) { }
        public void Note(string text) { }
    }
}
