using System.Reflection;
using System.Text.Json.Nodes;
using BatchCohort.Contracts;
using BatchCohort.Runtime.Caching;
using BatchCohort.Runtime.Cohorts;
using BatchCohort.Runtime.Distribution;
using BatchCohort.Runtime.Measurement;
using BatchCohort.Runtime.Storage;
using BatchCohort.Imaging.Formats;

namespace BatchCohort.Runtime.Coordination;

/// <summary>A run as the client prepared it: the manifest (command-line locations applied, blob demographics and atlas
/// as local copies), its subjects and the request sent to the coordinator. Dispose it when the run ends: the local
/// copies of blob files are deleted.</summary>
public sealed record RunPlan(CohortManifest Manifest, IReadOnlyList<SubjectInput> Subjects, RunRequest Request) : IAsyncDisposable
{
    internal CohortStorage? Storage { get; init; }

    /// <summary>The output as a person names it: a folder, or a blob location without any SAS.</summary>
    public string OutputDisplay => StorageLocation.Redact(Manifest.OutputLocation);

    public ValueTask DisposeAsync() => Storage?.DisposeAsync() ?? ValueTask.CompletedTask;
}

/// <summary>Where a run's outputs and exports go instead of the manifest's (the command line's --output, --export).</summary>
public sealed record RunLocations(string? Output = null, string? Export = null);

/// <summary>
/// The client's part of a run and the coordinator's bookkeeping, free of Orleans: reads the manifest (making the
/// synthetic cohort on first use), finds the subjects, writes the content-addressed settings document, and builds the
/// <see cref="RunRequest"/>; opens and resumes a <see cref="RunState"/> from it; converts states to views.
/// </summary>
public static class RunPlanner
{
    public static string Generator => "BatchCohort";
    public static string Version => typeof(RunPlanner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? typeof(RunPlanner).Assembly.GetName().Version?.ToString() ?? "0";

    /// <param name="measurer">Declares the measures and settings the manifest is checked against (default: the
    /// product's measurer, <see cref="MeasurerFactory.Create"/>).</param>
    /// <param name="locations">Output and export locations that replace the manifest's (a folder, az://container/prefix, a blob URL).</param>
    public static async Task<RunPlan> PlanAsync(string cohort, string pipelineVersion, bool newRun, int? jobs, IRunObserver observer, CancellationToken ct,
        ISubjectMeasurer? measurer = null, RunLocations? locations = null)
    {
        // Everything that can be checked is checked before anything is made or measured: manifest, locations (a blob
        // output, demographics, atlas and exports are reached now: a missing container or a wrong key fails here, in
        // seconds), paths, demographics, groups, names, settings, atlas (CohortValidationException: one line per problem).
        CohortManifest loaded;
        try { loaded = CohortManifest.Load(cohort); }
        catch (CohortManifestException e) { throw new CohortValidationException(new[] { e.Message }); }
        if (locations is { } l && (l.Output is not null || l.Export is not null))
            loaded = loaded.With(outputLocation: CommandLineLocation(l.Output, "--output"), exportLocation: CommandLineLocation(l.Export, "--export"));
        // a SAS stays in this process: run state, jobs and records carry the location without it
        if (StorageLocation.IsRemote(loaded.OutputLocation)) loaded = loaded.With(outputLocation: StorageLocation.Remember(loaded.OutputLocation));
        if (loaded.ExportLocation is { } ex0 && StorageLocation.IsRemote(ex0)) loaded = loaded.With(exportLocation: StorageLocation.Remember(ex0));
        CohortStorage storage;
        try { storage = await CohortStorage.OpenAsync(loaded, ct); }
        catch (CohortManifestException e) { throw new CohortValidationException(new[] { e.Message }); }
        try
        {
            await CheckExportAsync(loaded, ct);
            var cohortCheck = await CohortValidator.PrepareRunAsync(storage.Manifest, measurer ?? MeasurerFactory.Create(), observer, ct);
            var manifest = cohortCheck.Manifest!;
            var subjects = cohortCheck.Subjects;

            // The settings every silo needs, content-addressed under runs/ (rewritten when it differs: a blob atlas's
            // local copy has another path in every process; its identity, and so the hash, is its content's).
            // A blob atlas is named by its blob locations (without any SAS: this process remembers it), never by this
            // process's scratch copy: every silo fetches its own copy (AtlasCache), checked against the identity.
            var atlas = cohortCheck.Atlas!;
            if (AtlasCache.IsRemote(loaded.Atlas) && loaded.Atlas.Kind == atlas.Kind)
            {
                AtlasCache.Seed(cohortCheck.AtlasIdentity!, atlas);
                atlas = AtlasCache.WithoutSecrets(loaded.Atlas);
            }
            var settings = new RunSettings(manifest.Inputs.Type, atlas, cohortCheck.AtlasIdentity!, manifest.Settings);
            var settingsHash = settings.Hash;
            var outDir = manifest.OutputDirectory;
            Directory.CreateDirectory(Path.Combine(outDir, "runs"));
            var settingsName = $"runs/settings-{settingsHash[..16]}.json";
            var settingsPath = Path.Combine(outDir, "runs", $"settings-{settingsHash[..16]}.json");
            var settingsText = settings.ToJson().ToJsonString(Json.Options);
            if (!File.Exists(settingsPath) || File.ReadAllText(settingsPath) != settingsText) AtomicFile.WriteAllText(settingsPath, settingsText);
            var pipelineHash = ContentHash.OfText($"{pipelineVersion}\n{settingsHash}")[..16];
            WriteDatasetDescription(manifest, pipelineVersion, pipelineHash);
            var remote = StorageLocation.IsRemote(manifest.OutputLocation);
            // A blob output holds everything a silo on another machine needs besides its own credentials: the settings
            // document and a copy of the manifest (every SAS removed) for the coordinator's group stage.
            string? manifestCopy = null;
            var uploads = new List<string> { "dataset_description.json", settingsName, "runs/" + AtlasPin.FileName };
            if (remote)
            {
                var copy = ManifestCopy(loaded.ManifestPath);
                manifestCopy = $"runs/cohort-{ContentHash.OfText(copy)[..16]}.json";
                AtomicFile.WriteAllText(Path.Combine(outDir, manifestCopy.Replace('/', Path.DirectorySeparatorChar)), copy);
                uploads.Add(manifestCopy);
            }
            try { await storage.UploadAsync(uploads, ct); }
            catch (StorageException e) { throw new CohortValidationException(new[] { $"{manifest.ManifestPath}: output: {e.Message}" }); }

            var outputBase = remote ? StorageLocation.Redact(manifest.OutputLocation).TrimEnd('/') + "/" : null;
            var request = new RunRequest(
                manifest.Name, manifest.ManifestPath, Path.GetFullPath(outDir),
                remote ? outputBase + settingsName : FileUri.From(settingsPath).AbsoluteUri, settingsHash,
                pipelineVersion, pipelineHash, $"{Generator} {Version}", newRun, jobs,
                // a blob input's SAS stays in this process (the embedded silo reads with it); the run state, the jobs and
                // the records carry the location without it, and a cluster's silos read with their own credentials
                subjects.Select(s => new SubjectEntry(s.Id, s.Label,
                    CohortStorage.InputUri(StorageLocation.IsRemote(s.InputPath) ? StorageLocation.Remember(s.InputPath) : s.InputPath).AbsoluteUri, s.Problem)).ToArray(),
                OutputLocation: remote ? manifest.OutputLocation : null,
                ExportLocation: manifest.ExportLocation,
                OutputStateETag: storage.StateETag,
                ManifestCopy: manifestCopy is null ? null : outputBase + manifestCopy);
            return new RunPlan(manifest, subjects, request) { Storage = storage };
        }
        catch
        {
            await storage.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The manifest as the output keeps it for the coordinator: the file's JSON with the SAS of every blob location
    /// removed (remembered by this process, so the embedded run still reads with it; a cluster's silos use their own
    /// credentials). Relative paths stay relative: the coordinator resolves them against the manifest's original folder.
    /// </summary>
    private static string ManifestCopy(string manifestPath)
    {
        var node = JsonNode.Parse(File.ReadAllText(manifestPath), documentOptions: new System.Text.Json.JsonDocumentOptions
            { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
        JsonNode? Clean(JsonNode? n) => n switch
        {
            JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(kv.Key, Clean(kv.Value)))),
            JsonArray a => new JsonArray(a.Select(Clean).ToArray()),
            JsonValue v when v.TryGetValue<string>(out var text) => JsonValue.Create(IsSas(text) ? StorageLocation.Remember(text) : text),
            null => null,
            _ => n.DeepClone(),
        };
        return Clean(node)!.ToJsonString(Json.Options) + "\n";
        static bool IsSas(string text) => StorageLocation.IsRemote(text) && text.IndexOf('?') is > 0 and var q
                                          && text[q..].Contains("sig=", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A location given on the command line: a blob location as written, a path made absolute (against the current folder).</summary>
    private static string? CommandLineLocation(string? spec, string option)
    {
        if (spec is null) return null;
        if (spec.Trim().Length == 0) throw new CohortValidationException(new[] { $"{option}: empty location" });
        if (!StorageLocation.IsRemote(spec)) return Path.GetFullPath(spec);
        try { StorageLocation.Open(spec); }
        catch (StorageException e) { throw new CohortValidationException(new[] { $"{option}: {e.Message}" }); }
        return spec;
    }

    /// <summary>An export location in blob storage is reached now (its container and the credentials), not after hours of measuring.</summary>
    private static async Task CheckExportAsync(CohortManifest m, CancellationToken ct)
    {
        if (m.ExportLocation is not { } ex || !StorageLocation.IsRemote(ex)) return;
        try { await StorageLocation.Open(ex).GetInfoAsync(ExportPublisher.IndexName, ct); }
        catch (StorageException e) { throw new CohortValidationException(new[] { $"{m.ManifestPath}: exports: {e.Message}" }); }
    }

    public static RunState NewState(RunRequest r, string runId, DateTimeOffset now)
    {
        var state = new RunState
        {
            RunId = runId,
            Cohort = r.Cohort,
            Manifest = r.Manifest,
            OutputDirectory = r.OutputDirectory,
            OutputLocation = r.OutputLocation,
            ExportLocation = r.ExportLocation,
            ManifestCopy = r.ManifestCopy,
            Settings = r.Settings,
            PipelineVersion = r.PipelineVersion,
            SettingsHash = r.SettingsHash,
            PipelineHash = r.PipelineHash,
            Generator = r.Generator,
            StartedAt = now,
            Jobs = r.Jobs ?? 0,
            Status = RunState.Measuring,
        };
        state.Subjects.AddRange(r.Subjects.Select(s => new SubjectState { Id = s.Id, Label = s.Label, Input = s.Input, Problem = s.Problem }));
        return state;
    }

    /// <summary>Resumes an interrupted run with the subjects the client found now: done ones are kept (unless their
    /// result has gone), running ones go back to pending, new ones are added, vanished ones dropped.</summary>
    /// <param name="hasValidResult">Whether a subject (label, cache key) still has its valid result (default: in the local output folder).</param>
    public static void Resume(RunState previous, RunRequest r, DateTimeOffset now, Func<string, string?, bool>? hasValidResult = null)
    {
        hasValidResult ??= (label, key) => ResultStore.TryLoadValid(ResultStore.ResultPath(previous.OutputDirectory, label), key) is not null;
        var old = previous.Subjects.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var list = new List<SubjectState>();
        foreach (var si in r.Subjects)
        {
            if (old.TryGetValue(si.Id, out var s) && s.Label == si.Label)
            {
                s.Input = si.Input;
                s.Problem = si.Problem;
                if (s.Status == SubjectStatus.Running) { s.Status = SubjectStatus.Pending; s.StartedAt = null; s.Worker = null; }
                // a subject recorded done whose result has gone (deleted, or a different key) is redone
                if (s.Status == SubjectStatus.Done && !hasValidResult(si.Label, s.CacheKey))
                    s.Status = SubjectStatus.Pending;
                list.Add(s);
            }
            else list.Add(new SubjectState { Id = si.Id, Label = si.Label, Input = si.Input, Problem = si.Problem });
        }
        previous.Subjects = list;
        previous.ResumedAt.Add(now);
        previous.Status = RunState.Measuring;
        previous.FinishedAt = null;
        previous.ExportLocation = r.ExportLocation;
        previous.ManifestCopy = r.ManifestCopy;
        previous.Settings = r.Settings;
        if (r.Jobs is { } j) previous.Jobs = j;
    }

    /// <summary>The subjects of a run as the group stage wants them.</summary>
    public static IReadOnlyList<SubjectInput> Inputs(RunState s, CohortManifest m) =>
        s.Subjects.Select(x => new SubjectInput(x.Id, x.Label,
            x.Input is not null && Uri.TryCreate(x.Input, UriKind.Absolute, out var u) && u.IsFile ? u.LocalPath : x.Input ?? "",
            m.Inputs.Type, x.Problem)).ToList();

    public static RunView View(RunState s) => new(
        s.RunId, s.Cohort, s.Manifest, s.OutputDirectory, s.Status, s.PipelineVersion, s.PipelineHash, s.SettingsHash, s.Generator, s.Jobs,
        s.StartedAt, s.FinishedAt, s.ResumedAt.ToArray(),
        s.Subjects.Select(x => new SubjectView(x.Id, x.Label, x.Status.ToString().ToLowerInvariant(), x.Attempts, x.Worker, x.FailureKind, x.Reason,
            x.StartedAt, x.FinishedAt, x.Seconds, x.FromCache, x.CacheKey)).ToArray(),
        s.Notes.ToArray(), s.Outputs.ToArray(), s.GroupText);

    public static RunState FromView(RunView v)
    {
        var s = new RunState
        {
            RunId = v.RunId, Cohort = v.Cohort, Manifest = v.Manifest, OutputDirectory = v.OutputDirectory, Status = v.Status,
            PipelineVersion = v.PipelineVersion, PipelineHash = v.PipelineHash, SettingsHash = v.SettingsHash, Generator = v.Generator,
            Jobs = v.Jobs, StartedAt = v.StartedAt, FinishedAt = v.FinishedAt, ResumedAt = v.ResumedAt.ToList(),
            Notes = v.Notes.ToList(), Outputs = v.Outputs.ToList(), GroupText = v.GroupText,
        };
        s.Subjects.AddRange(v.Subjects.Select(x => new SubjectState
        {
            Id = x.Id, Label = x.Label, Status = Enum.Parse<SubjectStatus>(x.Status, ignoreCase: true), Attempts = x.Attempts, Worker = x.Silo,
            FailureKind = x.FailureKind, Reason = x.Reason, StartedAt = x.StartedAt, FinishedAt = x.FinishedAt, Seconds = x.Seconds,
            FromCache = x.FromCache, CacheKey = x.CacheKey,
        }));
        return s;
    }

    private static void WriteDatasetDescription(CohortManifest m, string pipelineVersion, string pipelineHash)
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
                ["PipelineVersion"] = pipelineVersion,
                ["PipelineHash"] = pipelineHash,
                ["Description"] = "Atlas-based affine registration, head/intracranial/brain segmentation, OASIS-style volumes (eTIV, ASF, nWBV), group statistics.",
            }),
        };
        AtomicFile.WriteAllText(Path.Combine(m.OutputDirectory, "dataset_description.json"), doc.ToJsonString(Json.Options) + "\n");
    }

    /// <summary>Subjects at once on one silo: one per core, but no more than the memory allows (about 1.5 GiB per subject at the OASIS size).</summary>
    public static int DefaultJobs()
    {
        int cores = Environment.ProcessorCount;
        long avail = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        int byMemory = avail > 0 ? (int)Math.Max(1, avail / (1536L << 20)) : cores;
        return Math.Max(1, Math.Min(cores, byMemory));
    }
}
