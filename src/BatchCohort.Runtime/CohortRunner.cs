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
        // Everything that can be checked is checked before anything is made or measured: manifest, paths,
        // demographics, groups, names, settings, atlas (CohortValidationException: one line per problem).
        var cohortCheck = await CohortValidator.PrepareRunAsync(cohort, measurer, _obs, ct);
        var manifest = cohortCheck.Manifest!;
        var subjects = cohortCheck.Subjects;

        // The settings every worker needs, content-addressed under runs/.
        var atlas = cohortCheck.Atlas!;
        var settings = new RunSettings(manifest.Inputs.Type, atlas, cohortCheck.AtlasIdentity!, manifest.Settings);
        var settingsHash = settings.Hash;
        var outDir = manifest.OutputDirectory;
        Directory.CreateDirectory(Path.Combine(outDir, "runs"));
        var settingsPath = Path.Combine(outDir, "runs", $"settings-{settingsHash[..16]}.json");
        if (!File.Exists(settingsPath)) AtomicFile.WriteAllText(settingsPath, settings.ToJson().ToJsonString(Json.Options));
        var pipelineHash = ContentHash.OfText($"{measurer.PipelineVersion}\n{settingsHash}")[..16];

        var statePath = RunState.StatePath(outDir);
        var (state, resumed) = OpenRun(manifest, subjects, statePath, measurer.PipelineVersion, settingsHash, pipelineHash, options.NewRun);
        int jobs = options.Jobs ?? DefaultJobs();
        state.Jobs = jobs;
        WriteDatasetDescription(manifest, pipelineHash);

        var coordinator = new CohortCoordinator(state, statePath);
        coordinator.Persist();
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
                        Input = FileUri.From(si.InputPath),
                        Output = FileUri.From(ResultStore.SubjectDirectory(outDir, si.Label) + Path.DirectorySeparatorChar),
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
        GroupSummary group;
        try
        {
            group = CohortGroupStage.Run(manifest, subjects, state, _obs);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // the run record always ends in a final state, and says why the statistics are missing
            CohortGroupStage.RemoveStaleStatistics(manifest.OutputDirectory);
            state.Status = RunState.GroupFailed;
            state.Notes = new List<string> { "group stage failed: " + e.Message.ReplaceLineEndings(" ") };
            state.FinishedAt = DateTimeOffset.UtcNow;
            coordinator.Persist();
            state.Save(RunState.RecordPath(outDir, state.RunId));
            throw;
        }
        state.Notes = group.Notes.ToList();
        state.Outputs = group.Outputs.ToList();
        state.Status = RunState.Completed;
        state.FinishedAt = DateTimeOffset.UtcNow;
        coordinator.Persist();
        state.Save(RunState.RecordPath(outDir, state.RunId));
        return new CohortRunOutcome(manifest, state, false, resumed, group);
    }

    private (RunState State, bool Resumed) OpenRun(CohortManifest m, IReadOnlyList<SubjectInput> subjects, string statePath,
        string pipelineVersion, string settingsHash, string pipelineHash, bool forceNew)
    {
        var now = DateTimeOffset.UtcNow;
        var previous = RunState.TryLoad(statePath);
        if (previous is not null && previous.Status is not (RunState.Completed or RunState.GroupFailed))
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
                        if (s.Status == SubjectStatus.Done && ResultStore.TryLoadValid(ResultStore.ResultPath(m.OutputDirectory, si.Label), s.CacheKey) is null)
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
